#include "policy/renewal.hpp"

#include <algorithm>

namespace certagent::policy {

TimePoint renewal_time(TimePoint not_before, TimePoint not_after, const Renewal& renewal,
                       std::optional<TimePoint> precomputed) {
  const auto lifetime = std::max(not_after - not_before, Clock::duration::zero());
  // "auto": a third of the lifetime left, half for a lifetime under 10 days.
  const TimePoint automatic = not_after - (lifetime < std::chrono::days(10) ? lifetime / 2 : lifetime / 3);
  TimePoint due = automatic;
  bool explicit_setting = false;  // the setting applies (an upper bound for the agent's time)
  switch (renewal.mode) {
    case Renewal::Mode::Auto:
      break;
    case Renewal::Mode::RemainingFraction:
      due = not_after - std::chrono::duration_cast<Clock::duration>(lifetime * renewal.remaining_fraction);
      explicit_setting = true;
      break;
    case Renewal::Mode::BeforeExpiry:
      // A lead time not shorter than the lifetime would renew every successor at once: the
      // automatic rule applies instead (the agent's decision says so).
      explicit_setting = renewal.before_expiry < lifetime;
      if (explicit_setting) due = not_after - renewal.before_expiry;
      break;
  }
  if (!precomputed) return due;
  // The agent's time (the CA's ARI window, jitter) replaces the automatic rule, but never
  // past the near-expiry point; an explicit policy setting stays an upper bound.
  const TimePoint cap = explicit_setting ? due : not_after - lifetime / 20;
  return std::min(*precomputed, cap);
}

}  // namespace certagent::policy
