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
  return precomputed ? std::min(*precomputed, due) : due;
}

}  // namespace certagent::policy
