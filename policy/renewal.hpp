#pragma once
// When to renew a certificate: the one rule, for the engine and for `certagent plan` — pure:
// `now` and the random source are parameters.
//
// Order of the rules (docs/renewal.md has the numbers and the reasoning):
//  1. expired, or less than 1/20 of the lifetime left  -> renew now (overrides ARI and policy);
//  2. a well-formed ARI window (RFC 9773 suggestedWindow) -> a uniformly random point in it;
//     a window in the past means now; a malformed one is ignored, with the reason given;
//  3. the policy's `renewal` other than "auto" -> exactly that far ahead of notAfter (no
//     jitter); with an ARI window as well, whichever is earlier; a lead time not shorter than
//     the lifetime is set aside for rule 4 (it would renew each successor at once);
//  4. otherwise when 1/3 of the lifetime remains (1/2 under 10 days), minus a random jitter
//     of up to min(lifetime/30, 1 day).
// Rule 1 also caps rules 2-4: no renewal time is ever later than the near-expiry point.
#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/time.hpp"
#include "policy/model.hpp"

namespace certagent::policy {

// RFC 9773 §4.2: the CA's suggested renewal window, and the Retry-After that came with it.
struct AriWindow {
  TimePoint start;
  TimePoint end;
  std::optional<Seconds> retry_after;  // absent: default_ari_recheck
};

struct RenewalInput {
  TimePoint not_before;
  TimePoint not_after;
  std::optional<AriWindow> ari;  // absent: the CA offers no renewal information
  Renewal renewal{};             // the policy's `renewal`; "auto": the lifetime rule
  // The `selected` point of this certificate's previous decision. Kept while it is still
  // inside the range the current rule draws from, so that waking up again does not re-roll
  // the dice (which would bias renewals towards the start of a window).
  std::optional<TimePoint> previous_selection;
};

enum class RenewalBasis {
  Expired,      // notAfter has passed
  NearExpiry,   // less than 1/20 of the lifetime left
  AriWindow,    // the CA's suggested window
  RenewBefore,  // the policy's renewal setting
  Lifetime,     // the default: 1/3 (or 1/2) of the lifetime left, with jitter
};

[[nodiscard]] const char* to_string(RenewalBasis b);

struct RenewalDecision {
  TimePoint renew_at;                     // <= now: renew now
  bool due = false;                       // renew_at <= now
  RenewalBasis basis = RenewalBasis::Lifetime;
  std::optional<TimePoint> selected;      // the random draw, to pass back as previous_selection
  std::optional<TimePoint> ari_recheck_at;  // when to fetch renewalInfo again (ARI given)
  TimePoint wake_at;                      // min(renew_at, ari_recheck_at): when to look again
  std::string reason;                     // one log line: why now, or why wait and until when
};

inline constexpr Seconds min_ari_recheck{60};           // Retry-After clamp, lower bound
inline constexpr Seconds max_ari_recheck{24 * 3600};    // Retry-After clamp, upper bound
inline constexpr Seconds default_ari_recheck{6 * 3600}; // no Retry-After given
inline constexpr Seconds max_lifetime_jitter{24 * 3600};

// Fails (ErrorKind::Invalid) only for a validity no schedule can come from (notAfter not after
// notBefore). A renewal setting that cannot apply to this certificate is set aside with the
// reason in `reason`.
[[nodiscard]] Result<RenewalDecision> decide_renewal(const RenewalInput& in, TimePoint now, Rng& rng);
// The same without a random draw: each range's latest point (the lifetime rule without jitter,
// the end of an ARI window) unless `previous_selection` lies in it — what `certagent plan`
// shows for a certificate the engine has not decided for.
[[nodiscard]] Result<RenewalDecision> decide_renewal(const RenewalInput& in, TimePoint now);

// The ARI re-check delay: Retry-After clamped to [1 minute, 1 day], 6 hours when absent.
[[nodiscard]] Seconds ari_recheck_delay(std::optional<Seconds> retry_after);

// Why an ARI window cannot be used (empty when it can): ends before it starts, starts after
// the certificate expires, or a date at/before 1970 or after 9999.
[[nodiscard]] std::string ari_window_problem(const AriWindow& w, TimePoint not_after);

}  // namespace certagent::policy
