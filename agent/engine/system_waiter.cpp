#include "agent/engine/system_waiter.hpp"

#include <algorithm>
#include <thread>

namespace certagent::agent {

ClockTime SystemClock::now() const { return std::chrono::system_clock::now(); }

Result<void> SleepingWaiter::wait_until(ClockTime deadline) {
  constexpr auto kSlice = std::chrono::milliseconds(200);
  for (;;) {
    if (cancelled_ != nullptr && cancelled_->load()) return fail(ErrorKind::Cancelled, "cancelled while waiting");
    auto now = std::chrono::system_clock::now();
    if (now >= deadline) return ok();
    std::this_thread::sleep_for(std::min<std::chrono::system_clock::duration>(deadline - now, kSlice));
  }
}

}  // namespace certagent::agent
