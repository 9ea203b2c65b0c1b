#pragma once
// Per-certificate failure back-off — pure: `now` and the random source are parameters.
//
// Transient failures: the n-th consecutive failure waits min(1 minute * 2^(n-1), 6 hours),
// shortened by a random jitter of up to 20%. Permanent failures (rejected, unauthorized,
// policy, or the CA's badCSR twice in a row) wait 24 hours plus up to 1 hour of jitter: at most
// one attempt a day. A CA Retry-After (capped at 7 days) is honoured when it is longer.
// The state survives restarts through to_json / backoff_state_from_json; the store does the I/O.
#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct BackoffPolicy {
  Seconds initial{60};
  Seconds cap{6 * 3600};
  double jitter = 0.2;                  // a delay d becomes uniform in [d * (1 - jitter), d]
  Seconds permanent_interval{24 * 3600};
  Seconds permanent_jitter{3600};       // permanent delay uniform in [interval, interval + this]
  Seconds max_retry_after{7 * 24 * 3600};
};

struct BackoffState {
  unsigned consecutive_failures = 0;
  bool permanent = false;                   // the last failure was permanent: report loudly
  std::optional<TimePoint> last_attempt;
  std::optional<TimePoint> next_attempt;    // absent: no back-off, attempt whenever due
  std::optional<ErrorKind> last_error_kind;
  std::string last_error_message;
  std::string last_problem_type;            // ACME problem URN of the last failure, if any
  std::optional<TimePoint> last_success;

  friend bool operator==(const BackoffState&, const BackoffState&) = default;
};

inline constexpr std::string_view bad_csr_problem = "urn:ietf:params:acme:error:badCSR";

// Is this failure permanent, given the state before it? Rejected (except a first badCSR),
// Unauthorized and Policy are; a badCSR right after a badCSR is.
[[nodiscard]] bool is_permanent(const Error& error, const BackoffState& before);

// The delay before the next attempt after this failure (jitter included, Retry-After honoured).
[[nodiscard]] Seconds failure_delay(const Error& error, const BackoffState& before, Rng& rng,
                                    const BackoffPolicy& policy = {});

// The state after an attempt at `now` failed with `error`.
[[nodiscard]] BackoffState record_failure(const BackoffState& before, const Error& error, TimePoint now,
                                          Rng& rng, const BackoffPolicy& policy = {});

// When to look again at an order pending at the CA: its Retry-After clamped to [1 min, 24 h];
// none, or 0, means the minimum.
[[nodiscard]] Seconds pending_check_delay(const Error& pending);
// The state after an attempt at `now` found its order still pending at the CA (journaled, to
// be looked at again): the next attempt is at `next_check`, the message says so; not a
// failure that grows the back-off (the count shows at least one, so `status` reports it).
[[nodiscard]] BackoffState record_pending(const BackoffState& before, const Error& error, TimePoint now,
                                          TimePoint next_check);
// The state after an attempt at `now` succeeded: failures and the wait cleared; the last error
// stays for the record.
[[nodiscard]] BackoffState record_success(const BackoffState& before, TimePoint now);

// The state after the operator changed what this certificate needs (a new policy): the wait
// is lifted, so a fixed policy is tried at once; last_success and last_attempt are kept.
[[nodiscard]] BackoffState reset_after_policy_change(const BackoffState& before);

// The state after the operator asked for an attempt now (`run --now`, having fixed the cause):
// the wait is lifted; the failure count and the last error stay, so a further failure backs
// off from where it was, and a success clears it all (record_success).
[[nodiscard]] BackoffState lift_wait(const BackoffState& before);

// May an attempt be made at `now`?
[[nodiscard]] bool attempt_allowed(const BackoffState& state, TimePoint now);

// The earliest time an attempt wanted at `wanted` may be made: max(wanted, next_attempt).
[[nodiscard]] TimePoint earliest_attempt(const BackoffState& state, TimePoint wanted);

// One log line: "no failures" / "retry at T (in 4m) after 3 consecutive failures; last error
// transport: ..." / "PERMANENT error (rejected: ...): at most one attempt a day, next at T".
[[nodiscard]] std::string describe(const BackoffState& state, TimePoint now);

// Persistence. Times are whole seconds since the Unix epoch (UTC) or null.
[[nodiscard]] boost::json::value to_json(const BackoffState& state);
// ErrorKind::Storage with what is wrong, for anything that is not a state to_json wrote:
// the caller should then log it and treat the certificate as due now (BackoffState{}).
[[nodiscard]] Result<BackoffState> backoff_state_from_json(const boost::json::value& v);
[[nodiscard]] Result<BackoffState> backoff_state_from_json(std::string_view text);

// "transport" -> ErrorKind::Transport (the names of to_string(ErrorKind)).
[[nodiscard]] std::optional<ErrorKind> error_kind_from_string(std::string_view name);

}  // namespace certagent::agent
