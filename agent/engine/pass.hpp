#pragma once
// One pass of the engine: policy -> required certificates -> what the store
// holds -> plan -> for each action: order (issue / reissue / renew), store,
// bind with hooks (rollback on failure); rebind a stored version; keep.
// Certificates are worked concurrently (bounded), each through its own order,
// with one challenge solver for the whole pass. Failures back off per
// certificate (persisted); a certificate in back-off is skipped with a reason.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "agent/engine/pass_types.hpp"
#include "agent/store/store.hpp"
#include "policy/model.hpp"

namespace certagent::agent {

struct EngineOptions {
  std::string policy_file;
  std::size_t concurrency = 4;  // certificates ordered at once
};

class Engine {
 public:
  Engine(EngineOptions options, std::shared_ptr<Store> store) : options_(std::move(options)), store_(std::move(store)) {}

  // Never throws; every failure is in the summary (and the log).
  [[nodiscard]] PassSummary pass(const PassRequest& request);

  // The daemon's way (make_pass): the state's writer lock is let go after every pass and taken
  // again at the start of the next, waiting for a command that writes (assign, request, ...).
  void hold_lock_only_during_passes() { lock_between_passes_ = false; }

  // How long a pass waits for a command that holds the writer lock.
  static constexpr std::chrono::minutes kLockWait{10};

 private:
  bool lock_between_passes_ = true;
  EngineOptions options_;
  std::shared_ptr<Store> store_;
  std::optional<policy::Policy> policy_;  // the last valid policy, kept in force when the file turns invalid

  // The pass after the policy is loaded: plan, work, plan again, save the schedules. A failure of
  // the pass as a whole (not of one certificate) comes back as a value, with its kind.
  [[nodiscard]] Result<void> plan_and_work(const PassRequest& request, PassSummary& summary);
};

}  // namespace certagent::agent
