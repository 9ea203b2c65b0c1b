#include "protocol/http/io_budget.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace certagent::protocol {

IoBudget::IoBudget(std::chrono::milliseconds limit, const std::atomic<bool>* cancel, std::string what)
    : start_(Clock::now()), deadline_(start_ + limit), cancel_(cancel), what_(std::move(what)) {}

void IoBudget::watch_speed(long bytes_per_second, std::chrono::seconds window) {
  min_rate_ = bytes_per_second;
  window_ = window;
  speed_start_ = Clock::now();
  samples_.assign(1, {speed_start_, total_bytes_});
}

bool IoBudget::too_slow(Clock::time_point now) {
  if (min_rate_ <= 0) return false;
  if (now - samples_.back().first >= std::chrono::seconds(1)) samples_.emplace_back(now, total_bytes_);
  while (samples_.size() > 1 && now - samples_[1].first >= window_) samples_.pop_front();
  if (now - speed_start_ < window_) return false;
  const auto& [since, bytes_then] = samples_.front();
  window_bytes_ = total_bytes_ - bytes_then;
  const double seconds = std::chrono::duration<double>(now - since).count();
  return static_cast<double>(window_bytes_) < static_cast<double>(min_rate_) * seconds;
}

IoBudget IoBudget::narrowed(std::chrono::milliseconds limit, std::string what) const {
  IoBudget out(limit, cancel_, std::move(what));
  out.deadline_ = std::min(out.deadline_, deadline_);
  return out;
}

Result<void> IoBudget::check() {
  auto prefix = [this] { return what_.empty() ? std::string() : what_ + ": "; };
  if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) {
    spent_ = true;
    return fail(ErrorKind::Cancelled, prefix() + "cancelled (the agent is stopping)");
  }
  const auto now = Clock::now();
  if (now >= deadline_) {
    spent_ = true;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - start_).count();
    return fail(ErrorKind::Transport, fmt::format("{}timed out after {} ms", prefix(), ms), true);
  }
  if (too_slow(now)) {
    spent_ = true;
    return fail(ErrorKind::Transport,
                fmt::format("{}transfer too slow: {} bytes in the last {} s (the floor is {} bytes/s)", prefix(),
                            window_bytes_, window_.count(), min_rate_),
                true);
  }
  return ok();
}

int IoBudget::poll_ms() const {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count() + 1, 0, kTick.count()));
}

Result<void> wait_for(int fd, short events, IoBudget& budget) {
  for (;;) {
    if (auto left = budget.check(); !left) return left;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, budget.poll_ms());
    if (n > 0) return ok();  // ready, or an error/hang-up the next call will report
    if (n < 0 && errno != EINTR)
      return fail(ErrorKind::Transport, fmt::format("waiting for the socket: {}", std::strerror(errno)), true);
  }
}

}  // namespace certagent::protocol
