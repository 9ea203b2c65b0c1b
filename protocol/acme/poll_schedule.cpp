#include "protocol/acme/poll_schedule.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace certagent::protocol {

namespace {
constexpr std::string_view kPendingAtCa = "pending at the CA";
}  // namespace

bool is_pending_at_ca(const Error& e) {
  return e.kind == ErrorKind::Timeout && e.message.find(kPendingAtCa) != std::string::npos;
}

Result<ClockTime> PollSchedule::next(ClockTime now, std::optional<std::chrono::seconds> retry_after,
                                     const std::string& what) {
  if (now >= deadline_) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(policy_.total).count();
    return fail(ErrorKind::Timeout, what + ": still not done after " + std::to_string(secs) + " s", true);
  }
  interval_ = interval_.count() == 0 ? policy_.first : std::min(interval_ * 2, policy_.max_interval);
  std::chrono::milliseconds delay = interval_;
  // Retry-After may slow the looks down, never speed them up past the back-off: a CA
  // that says "0" on every answer would otherwise be polled every `first` ms.
  if (retry_after) delay = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after), interval_);
  if (policy_.hand_back_after && now + delay > start_ + *policy_.hand_back_after) {
    Error e(ErrorKind::Timeout, what + ": " + std::string(kPendingAtCa), true);
    e.retry_after = retry_after;
    return std::unexpected(std::move(e));
  }
  return std::min(now + delay, deadline_);
}

}  // namespace certagent::protocol
