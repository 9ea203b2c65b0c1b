#include "agent/daemon/owed_retry.hpp"

#include <fmt/format.h>

#include <memory>
#include <random>

#include "agent/engine/records.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/notify_journal.hpp"

namespace certagent::agent {

OwedRetry::OwedRetry(std::filesystem::path state_dir) : state_dir_(std::move(state_dir)), rng_(std::random_device{}()) {}

void OwedRetry::after_pass(PassSummary& summary, TimePoint now) {
  auto owed = pending_notifications(state_dir_);
  if (!owed) {  // the pass has reported it; the next due time stands
    module_logger("daemon")->debug("not looking for owed notifications: {}", owed.error().message);
    return;
  }
  if (owed->empty()) {
    state_ = {};
    return;
  }
  std::string purposes;
  for (const auto& n : *owed) purposes += (purposes.empty() ? "" : ", ") + n.purpose;
  const Error why(ErrorKind::Hook, "consumers owed a notification: " + purposes);
  const TimePoint retry = now + failure_delay(why, state_, rng_, engine_backoff_policy());
  ++state_.consecutive_failures;
  if (!summary.next_wake || retry < *summary.next_wake) summary.next_wake = retry;
  const std::string said = fmt::format("{}; telling them again at {}", why.message, format_rfc3339(retry));
  summary.status_line += (summary.status_line.empty() ? "" : "; ") + said;
  module_logger("daemon")->warn("{}", said);
}

PassFn retrying_owed_notifications(PassFn pass, std::filesystem::path state_dir) {
  auto retry = std::make_shared<OwedRetry>(std::move(state_dir));
  return [pass = std::move(pass), retry](const PassRequest& r) {
    PassSummary summary = pass(r);
    retry->after_pass(summary, std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    return summary;
  };
}

}  // namespace certagent::agent
