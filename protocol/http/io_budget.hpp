#pragma once
// The bounds of one request's blocking I/O: a deadline, a low-speed window
// (a transfer averaging fewer than `min_bytes_per_second` over the last
// `window` fails)
// and a cancellation flag, checked whenever poll() wakes — at least every
// 100 ms. Not a sleep: the transport only ever waits in poll() for its socket.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "common/error.hpp"

namespace certagent::protocol {

class IoBudget {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kTick{100};

  // `what` names the phase in a message ("connecting to ca.example:443"); may be empty.
  IoBudget(std::chrono::milliseconds limit, const std::atomic<bool>* cancel, std::string what);

  // Also fail when fewer than `bytes_per_second` on average move in any `window`.
  void watch_speed(long bytes_per_second, std::chrono::seconds window);
  // A budget ending at the earlier of this one's deadline and `limit` from now
  // (the connect phase inside a request), with the same cancel flag.
  [[nodiscard]] IoBudget narrowed(std::chrono::milliseconds limit, std::string what) const;

  // Ok while time is left; Cancelled once the flag is set; Transport
  // (retryable) once the deadline passed or the transfer is too slow.
  [[nodiscard]] Result<void> check();
  // Counts bytes that moved (either direction) for the low-speed window.
  void moved(std::size_t bytes) { total_bytes_ += bytes; }
  // How long the next poll() may block: at most kTick, never past the deadline.
  [[nodiscard]] int poll_ms() const;
  [[nodiscard]] const std::atomic<bool>* cancel_flag() const { return cancel_; }
  // True once check() failed: the error came from the budget, not the peer.
  [[nodiscard]] bool spent() const { return spent_; }

 private:
  Clock::time_point start_;
  Clock::time_point deadline_;
  const std::atomic<bool>* cancel_;
  std::string what_;
  [[nodiscard]] bool too_slow(Clock::time_point now);

  long min_rate_ = 0;
  std::chrono::seconds window_{0};
  Clock::time_point speed_start_;
  std::uint64_t total_bytes_ = 0;
  // (time, bytes moved so far), about one a second, the oldest ~window ago:
  // the rate is measured over a sliding window, as curl's low-speed limit is.
  std::deque<std::pair<Clock::time_point, std::uint64_t>> samples_;
  std::uint64_t window_bytes_ = 0;  // moved in the last window, for the message
  bool spent_ = false;
};

// Waits until `fd` is ready for `events` (POLLIN / POLLOUT) within `budget`.
[[nodiscard]] Result<void> wait_for(int fd, short events, IoBudget& budget);

}  // namespace certagent::protocol
