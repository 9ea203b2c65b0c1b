#include "protocol/poll_schedule.hpp"

#include <algorithm>

namespace certagent::protocol {

Result<TimePoint> PollSchedule::next(TimePoint now, std::optional<std::chrono::seconds> retry_after,
                                     const std::string& what) {
  if (now >= deadline_) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(policy_.total).count();
    return fail(ErrorKind::Timeout, what + ": still not done after " + std::to_string(secs) + " s", true);
  }
  interval_ = interval_.count() == 0 ? policy_.first : std::min(interval_ * 2, policy_.max_interval);
  std::chrono::milliseconds delay = interval_;
  // Retry-After paces the looks, but never faster than the first interval (a hostile "0").
  if (retry_after) delay = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after), policy_.first);
  return std::min(now + delay, deadline_);
}

}  // namespace certagent::protocol
