#pragma once
// The time types, once. Two, with one conversion between them:
//   ClockTime  what a clock reads (std::chrono::system_clock, sub-second): protocol/'s
//              Clock and Waiter, polling, Retry-After;
//   TimePoint  whole seconds, UTC: what is decided, stored and compared — certificates'
//              validity, the renewal decision (policy/renewal.hpp), the plan, the schedule,
//              ARI records, back-off.
// to_seconds() is the conversion (rounding down). Time and randomness are parameters of the
// pure code (never read inside it), so tests drive it with a fixed `now` and a seeded generator.
#include <chrono>
#include <random>
#include <string>

#include "common/rfc3339.hpp"  // format_rfc3339: "2025-03-01T12:00:00Z"

namespace certagent {

using ClockTime = std::chrono::system_clock::time_point;
using TimePoint = std::chrono::sys_seconds;
using Seconds = std::chrono::seconds;
using Rng = std::mt19937_64;  // seed from std::random_device in the daemon

[[nodiscard]] constexpr TimePoint to_seconds(ClockTime t) { return std::chrono::floor<Seconds>(t); }

// Two most significant units, for humans: "29d4h", "5h12m", "3m20s", "45s", "-2h".
[[nodiscard]] std::string format_duration(Seconds d);

// A uniformly random whole second in [lo, hi] (lo when hi <= lo).
[[nodiscard]] TimePoint uniform_time(TimePoint lo, TimePoint hi, Rng& rng);

}  // namespace certagent
