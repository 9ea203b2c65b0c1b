#include "common/time.hpp"

#include <fmt/format.h>

namespace certagent {

std::string format_duration(Seconds d) {
  if (d < Seconds::zero()) return "-" + format_duration(-d);
  struct Unit { long long seconds; const char* suffix; };
  static constexpr Unit units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  long long left = d.count();
  std::string out;
  int shown = 0;
  for (const auto& u : units) {
    const long long n = left / u.seconds;
    left %= u.seconds;
    if (n == 0 && shown == 0) continue;
    if (n != 0) out += fmt::format("{}{}", n, u.suffix);
    if (++shown == 2) break;
  }
  return out.empty() ? "0s" : out;
}

TimePoint uniform_time(TimePoint lo, TimePoint hi, Rng& rng) {
  if (hi <= lo) return lo;
  std::uniform_int_distribution<long long> pick(0, (hi - lo).count());
  return lo + Seconds{pick(rng)};
}

}  // namespace certagent
