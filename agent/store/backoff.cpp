#include "agent/store/backoff.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace certagent::agent {

namespace {

// min(initial * 2^(n-1), cap) for the n-th consecutive failure (n >= 1), without overflow.
Seconds nominal_delay(unsigned n, const BackoffPolicy& policy) {
  Seconds d = policy.initial;
  for (unsigned i = 1; i < n && d < policy.cap; ++i) d *= 2;
  return std::min(d, policy.cap);
}

Seconds jittered(Seconds d, const BackoffPolicy& policy, Rng& rng) {
  const auto shortest = Seconds{static_cast<long long>(static_cast<double>(d.count()) * (1.0 - policy.jitter))};
  std::uniform_int_distribution<long long> pick(shortest.count(), d.count());
  return Seconds{pick(rng)};
}

bool is_bad_csr(const Error& e) { return e.problem_type == bad_csr_problem; }

}  // namespace

bool is_permanent(const Error& error, const BackoffState& before) {
  if (is_bad_csr(error))
    return before.consecutive_failures > 0 && before.last_problem_type == bad_csr_problem;
  switch (error.kind) {
    case ErrorKind::Rejected:
    case ErrorKind::Unauthorized:
    case ErrorKind::Policy: return true;
    default: return false;
  }
}

Seconds failure_delay(const Error& error, const BackoffState& before, Rng& rng, const BackoffPolicy& policy) {
  Seconds delay{};
  if (is_permanent(error, before)) {
    std::uniform_int_distribution<long long> extra(0, policy.permanent_jitter.count());
    delay = policy.permanent_interval + Seconds{extra(rng)};
  } else {
    delay = jittered(nominal_delay(before.consecutive_failures + 1, policy), policy, rng);
  }
  if (error.retry_after) delay = std::max(delay, std::min(*error.retry_after, policy.max_retry_after));
  return delay;
}

BackoffState record_failure(const BackoffState& before, const Error& error, TimePoint now, Rng& rng,
                            const BackoffPolicy& policy) {
  BackoffState s = before;
  s.permanent = is_permanent(error, before);
  s.next_attempt = now + failure_delay(error, before, rng, policy);
  s.consecutive_failures = before.consecutive_failures + 1;
  s.last_attempt = now;
  s.last_error_kind = error.kind;
  s.last_error_message = error.message;
  s.last_problem_type = error.problem_type;
  return s;
}

BackoffState record_success(const BackoffState& before, TimePoint now) {
  BackoffState s = before;
  s.consecutive_failures = 0;
  s.permanent = false;
  s.next_attempt.reset();
  s.last_attempt = now;
  s.last_success = now;
  return s;
}

BackoffState reset_after_policy_change(const BackoffState& before) {
  BackoffState s;
  s.last_success = before.last_success;
  s.last_attempt = before.last_attempt;
  return s;
}

BackoffState lift_wait(const BackoffState& before) {
  BackoffState s = before;
  s.next_attempt.reset();
  return s;
}

bool attempt_allowed(const BackoffState& state, TimePoint now) {
  return !state.next_attempt || now >= *state.next_attempt;
}

TimePoint earliest_attempt(const BackoffState& state, TimePoint wanted) {
  return state.next_attempt ? std::max(wanted, *state.next_attempt) : wanted;
}

std::string describe(const BackoffState& state, TimePoint now) {
  if (state.consecutive_failures == 0) return "no failures";
  const std::string kind = state.last_error_kind ? to_string(*state.last_error_kind) : "unknown";
  std::string when = "now";
  if (state.next_attempt && *state.next_attempt > now)
    when = fmt::format("{} (in {})", format_rfc3339(*state.next_attempt), format_duration(*state.next_attempt - now));
  if (state.permanent)
    return fmt::format("PERMANENT error ({}: {}) needs an operator: at most one attempt a day, next at {}", kind,
                       state.last_error_message, when);
  return fmt::format("retry at {} after {} consecutive failure{}; last error {}: {}", when,
                     state.consecutive_failures, state.consecutive_failures == 1 ? "" : "s", kind,
                     state.last_error_message);
}

}  // namespace certagent::agent
