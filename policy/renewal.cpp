#include "policy/renewal.hpp"

#include <algorithm>

namespace certagent::policy {

TimePoint renewal_time(TimePoint not_before, TimePoint not_after, const Renewal& renewal,
                       std::optional<TimePoint> precomputed) {
  const auto lifetime = std::max(not_after - not_before, Clock::duration::zero());
  TimePoint due = not_after;
  switch (renewal.mode) {
    case Renewal::Mode::Auto:
      due = not_after - lifetime / 3;
      break;
    case Renewal::Mode::RemainingFraction:
      due = not_after - std::chrono::duration_cast<Clock::duration>(lifetime * renewal.remaining_fraction);
      break;
    case Renewal::Mode::BeforeExpiry:
      due = not_after - std::min<Clock::duration>(renewal.before_expiry, lifetime);
      break;
  }
  if (!precomputed) return due;
  // The agent's time (the CA's ARI window, jitter) replaces the automatic rule, but never
  // past the near-expiry point; an explicit policy setting stays an upper bound.
  const TimePoint cap = renewal.mode == Renewal::Mode::Auto ? not_after - lifetime / 20 : due;
  return std::min(*precomputed, cap);
}

}  // namespace certagent::policy
