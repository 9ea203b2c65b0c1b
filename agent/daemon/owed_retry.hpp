#pragma once
// Consumers owed a notification (agent/store/notify_journal.hpp: a purpose switched whose
// hooks or unit reloads failed, or a run that died between the switch and telling them) are
// told again at the start of every pass. The daemon does not leave them until the next due
// renewal, weeks away: while any is owed after a pass, it wakes for another pass no later than
// the transient-failure back-off says — 1 minute, doubling up to 6 hours, with its jitter
// (engine_backoff_policy(): CERTAGENT_BACKOFF_INITIAL shortens the first step). A pass after
// which none is owed starts the back-off over.
#include <filesystem>

#include "agent/engine/pass_types.hpp"
#include "agent/store/backoff.hpp"

namespace certagent::agent {

class OwedRetry {
 public:
  explicit OwedRetry(std::filesystem::path state_dir);
  // Brings `summary.next_wake` forward to the retry when notifications are still owed (read
  // from the state directory now), and says so in its status line.
  void after_pass(PassSummary& summary, TimePoint now);

 private:
  std::filesystem::path state_dir_;
  BackoffState state_;
  Rng rng_;
};

// `pass`, followed by OwedRetry::after_pass (the daemon's pass; run --once needs none).
[[nodiscard]] PassFn retrying_owed_notifications(PassFn pass, std::filesystem::path state_dir);

}  // namespace certagent::agent
