#pragma once
// Rebind with rollback: bind purposes to a new version, refresh their extra
// outputs, run their hooks; if any of that fails, every purpose of the step
// goes back to its previous version together — bindings, output files (byte
// for byte) and a rerun of the hooks for the restore — and the failure is
// reported. The new version stays in the store for the next attempt.
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/engine/hooks.hpp"
#include "agent/engine/outputs.hpp"
#include "agent/engine/units.hpp"
#include "agent/store/store.hpp"

namespace certagent::agent {

// Told in this order after the outputs are written: the hooks, then the units
// (systemd reloads or restarts them), for a bind and for a rollback alike.
struct PurposeConsumers {
  std::vector<Hook> hooks;
  std::vector<OutputSpec> outputs;
  std::vector<UnitAction> units;
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

// All or nothing across `purposes` (e.g. the three purposes of a shared
// certificate): first every purpose's outputs are staged — an output that
// cannot be written (unknown group, missing directory, symlink at the path,
// missing password file) fails the call before anything is switched. Then
// every purpose is switched, every output committed, and the hooks run in
// order. When an output or a hook fails, every purpose that had a previous
// version is bound to it again, its outputs restored and its hooks rerun
// (action "rollback"); each outcome says so. A purpose that was unbound
// before keeps the new version (there is nothing to go back to); it fails
// only when its own hooks did not run or failed. The call fails outright
// (with nothing left switched) when staging or a switch fails.
// `unowed`: how the switch of a purpose without hooks or outputs is made
// durable (Store::LiveSync; Caller only for a caller that fsyncs live/ later,
// the engine's pass). A purpose with consumers is always durable before they
// are told.
[[nodiscard]] Result<std::vector<RebindOutcome>> rebind(Store& store, std::span<const std::string> purposes,
                                                        std::string_view version_id,
                                                        const std::map<std::string, PurposeConsumers>& consumers,
                                                        Store::LiveSync unowed = Store::LiveSync::Now);

// For each purpose a crashed rebind switched without telling its consumers
// (agent/store/notify_journal.hpp): writes its outputs and runs its hooks now. A
// record whose switch never happened is dropped; one whose hooks fail stays
// for the next pass.
void replay_owed_notifications(Store& store, const std::map<std::string, PurposeConsumers>& consumers);

}  // namespace certagent::agent
