#pragma once
// The renewal due rule, in one place.
#include <chrono>
#include <optional>

#include "policy/model.hpp"

namespace certagent::policy {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// When a certificate valid from `not_before` to `not_after` is due for renewal:
//   auto          when one third of the lifetime remains
//   "N%"          when N% of the lifetime remains
//   "30d", "12h"  that long before not_after (at not_before if longer than the lifetime)
// If the agent has computed a time of its own (the CA's ARI window, jitter),
// `precomputed` is used, but never later than the policy's time: nearness to
// expiry wins over the CA's suggestion.
[[nodiscard]] TimePoint renewal_time(TimePoint not_before, TimePoint not_after, const Renewal& renewal,
                                     std::optional<TimePoint> precomputed = std::nullopt);

}  // namespace certagent::policy
