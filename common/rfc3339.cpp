#include "common/rfc3339.hpp"

#include <fmt/format.h>

#include "common/escape.hpp"

namespace certagent {
namespace {

// Exactly n ASCII digits at s[pos] (from_chars alone would also take a '-' sign).
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "Z", "z", "+hh:mm" or "-hh:mm": the offset in minutes east of UTC.
bool offset_minutes(std::string_view tz, int& out) {
  if (tz == "Z" || tz == "z") {
    out = 0;
    return true;
  }
  int h = 0, m = 0;
  if (tz.size() != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':' || !digits(tz, 1, 2, h) ||
      !digits(tz, 4, 2, m) || h > 23 || m > 59)
    return false;
  out = (tz[0] == '-' ? -1 : 1) * (h * 60 + m);
  return true;
}

}  // namespace

Result<std::chrono::sys_seconds> parse_rfc3339(std::string_view s) {
  auto bad = [&] {
    return fail(ErrorKind::Invalid, fmt::format("'{}' is not an RFC 3339 date-time", escape_control(s, 40)));
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return bad();
  std::size_t pos = 19;
  if (s[pos] == '.') {
    const std::size_t first = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;  // fractions are dropped
    if (pos == first) return bad();                                   // but there is one
  }
  int offset = 0;
  if (!offset_minutes(s.substr(pos), offset)) return bad();
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad();
  return sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec > 59 ? 59 : sec) - minutes(offset);
}

std::string format_rfc3339(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

}  // namespace certagent
