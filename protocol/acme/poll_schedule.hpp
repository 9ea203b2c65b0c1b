#pragma once
// When to look again at something the CA is working on (challenges, a
// processing order): a short first look, exponential back-off up to a cap,
// the CA's Retry-After when it gives one, and a bounded total time. Pure.
#include <chrono>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "protocol/acme/waiting.hpp"

namespace certagent::protocol {

struct PollPolicy {
  std::chrono::milliseconds first{40};          // validation is often done by then
  std::chrono::milliseconds max_interval{5000};
  std::chrono::seconds total{300};              // then a Timeout error
  // Set: once the next look would come later than this after the start (the CA's Retry-After
  // is long, or it has been working that long), next() hands the wait back to the caller
  // instead: a pending_at_ca error carrying the CA's Retry-After, if any.
  std::optional<std::chrono::seconds> hand_back_after{};
};

// The CA is still working on it and the wait was handed back (PollPolicy::hand_back_after):
// the caller keeps what it has (the order journaled) and looks again later.
[[nodiscard]] bool is_pending_at_ca(const Error& e);

class PollSchedule {
 public:
  PollSchedule(PollPolicy policy, ClockTime start)
      : policy_(policy), start_(start), deadline_(start + policy.total) {}

  // The time of the next look. The CA's Retry-After wins over a shorter back-off
  // (a shorter Retry-After, e.g. a hostile "0" on every answer, does not);
  // no look is scheduled past the deadline (the last one is at it). A Timeout
  // error naming `what` once the deadline has passed.
  [[nodiscard]] Result<ClockTime> next(ClockTime now, std::optional<std::chrono::seconds> retry_after,
                                       const std::string& what);
  [[nodiscard]] ClockTime deadline() const { return deadline_; }

 private:
  PollPolicy policy_;
  ClockTime start_;
  ClockTime deadline_;
  std::chrono::milliseconds interval_{0};
};

}  // namespace certagent::protocol
