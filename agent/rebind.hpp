#pragma once
// Rebind with rollback: bind a purpose to a new version, refresh its extra
// outputs, run its hooks; if any of that fails, bind the previous version
// again, refresh and run the hooks for the restore, and report the failure.
// The new version stays in the store for the next attempt.
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/hooks.hpp"
#include "agent/outputs.hpp"
#include "agent/store.hpp"

namespace certagent::agent {

struct PurposeConsumers {
  std::vector<Hook> hooks;
  std::vector<OutputSpec> outputs;
};

struct RebindOutcome {
  std::string purpose;
  std::string previous_version;  // "" when the purpose was unbound
  std::string new_version;
  std::optional<Error> failure;           // an output or hook failed after the switch
  bool rolled_back = false;               // the previous version is bound again
  std::optional<Error> rollback_failure;  // the restore itself had trouble (hooks, outputs, bind)

  [[nodiscard]] bool succeeded() const { return !failure; }
};

// One outcome per purpose (each purpose is switched and judged on its own).
// Fails outright only when the new version cannot be bound at all — then
// nothing was switched for the purposes not yet reached. A purpose that was
// unbound before keeps the new version when its hooks fail (there is nothing
// to go back to); the failure is still reported.
[[nodiscard]] Result<std::vector<RebindOutcome>> rebind(Store& store, std::span<const std::string> purposes,
                                                        std::string_view version_id,
                                                        const std::map<std::string, PurposeConsumers>& consumers);

// For each purpose a crashed rebind switched without telling its consumers
// (agent/notify_journal.hpp): writes its outputs and runs its hooks now. A
// record whose switch never happened is dropped; one whose hooks fail stays
// for the next pass.
void replay_owed_notifications(Store& store, const std::map<std::string, PurposeConsumers>& consumers);

}  // namespace certagent::agent
