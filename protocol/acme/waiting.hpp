#pragma once
// Time as a parameter. protocol/ never sleeps by itself: every wait of the ACME
// client (Retry-After, challenge and order polling) goes through a Waiter the
// caller supplies, and every "now" comes from a Clock. Unit tests pass a
// simulated pair; the agent passes the real one (agent/engine/system_waiter.hpp).
#include <chrono>

#include "common/error.hpp"
#include "common/time.hpp"  // ClockTime

namespace certagent::protocol {

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual ClockTime now() const = 0;
};

class Waiter {
 public:
  virtual ~Waiter() = default;
  // Returns at or after `deadline`, or early with an error (e.g. Cancelled on shutdown).
  [[nodiscard]] virtual Result<void> wait_until(ClockTime deadline) = 0;
};

}  // namespace certagent::protocol
