#pragma once
// Time and randomness for the renewal schedule and the failure back-off.
// Both are parameters of the pure scheduling code (never read inside it), so the
// tests drive it with a fixed `now` and a seeded generator.
#include <chrono>
#include <random>
#include <string>

#include "common/rfc3339.hpp"  // format_rfc3339: "2025-03-01T12:00:00Z"

namespace certagent::agent {

using TimePoint = std::chrono::sys_seconds;   // whole seconds, UTC
using Seconds = std::chrono::seconds;
using Rng = std::mt19937_64;                  // seed from std::random_device in the daemon


// Two most significant units, for humans: "29d4h", "5h12m", "3m20s", "45s", "-2h".
[[nodiscard]] std::string format_duration(Seconds d);

// A uniformly random whole second in [lo, hi] (lo when hi <= lo).
[[nodiscard]] TimePoint uniform_time(TimePoint lo, TimePoint hi, Rng& rng);

}  // namespace certagent::agent
