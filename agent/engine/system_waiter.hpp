#pragma once
// The real clock and the real waiting for protocol/: the wall clock, and a
// Waiter that sleeps (the one place where the ACME client's waits become real
// sleeps). A cancellation flag, when given, cuts waits short with Cancelled.
#include <atomic>

#include "protocol/acme/waiting.hpp"

namespace certagent::agent {

class SystemClock final : public protocol::Clock {
 public:
  [[nodiscard]] ClockTime now() const override;
};

class SleepingWaiter final : public protocol::Waiter {
 public:
  explicit SleepingWaiter(const std::atomic<bool>* cancelled = nullptr) : cancelled_(cancelled) {}
  // Sleeps until `deadline` in slices of at most 200 ms, checking the flag between them.
  [[nodiscard]] Result<void> wait_until(ClockTime deadline) override;

 private:
  const std::atomic<bool>* cancelled_;
};

}  // namespace certagent::agent
