#pragma once
// The renewal due rule, in one place.
#include <chrono>
#include <optional>

#include "policy/model.hpp"

namespace certagent::policy {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// When a certificate valid from `not_before` to `not_after` is due for renewal:
//   auto          when one third of the lifetime remains (one half under 10 days)
//   "N%"          when N% of the lifetime remains
//   "30d", "12h"  that long before not_after; as auto when not shorter than the lifetime
// The engine decides with agent/store/renewal.hpp's decide_renewal (ARI, jitter, near expiry)
// and passes its time as `precomputed`; without one (`certagent plan` before any decision)
// this is the same rule without jitter.
// If the agent has computed a time of its own (the CA's ARI window, jitter),
// `precomputed` is used: in `auto` mode it may be later than the one-third
// point (a CA's ARI window), but never later than the near-expiry point (1/20
// of the lifetime left); with an explicit setting, never later than that setting.
[[nodiscard]] TimePoint renewal_time(TimePoint not_before, TimePoint not_after, const Renewal& renewal,
                                     std::optional<TimePoint> precomputed = std::nullopt);

}  // namespace certagent::policy
