#include "protocol/acme/retry_after.hpp"

#include <array>
#include <optional>
#include <string>

#include "common/escape.hpp"
#include "common/text.hpp"

namespace certagent::protocol {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A left-to-right reader over the value; every step either matches or fails.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;

  [[nodiscard]] bool done() const { return i == s.size(); }
  bool lit(std::string_view t) {
    if (!s.substr(i).starts_with(t)) return false;
    i += t.size();
    return true;
  }
  std::optional<int> digits(std::size_t n) {
    if (s.size() - i < n) return std::nullopt;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    i += n;
    return v;
  }
  template <std::size_t N>
  std::optional<unsigned> one_of(const std::array<std::string_view, N>& names) {
    for (std::size_t k = 0; k < N; ++k)
      if (lit(names[k])) return static_cast<unsigned>(k + 1);
    return std::nullopt;
  }
};

// HH:MM:SS (a leap second :60 is accepted, as the grammar allows).
std::optional<seconds> time_of_day(Cursor& c) {
  auto h = c.digits(2);
  if (!h || !c.lit(":")) return std::nullopt;
  auto m = c.digits(2);
  if (!m || !c.lit(":")) return std::nullopt;
  auto s = c.digits(2);
  if (!s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  return hours(*h) + minutes(*m) + seconds(*s);
}

std::optional<sys_seconds> at(int y, std::optional<unsigned> mon, int d, seconds tod) {
  if (!mon || d < 1) return std::nullopt;
  year_month_day ymd{year{y}, month{*mon}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_seconds(sys_days(ymd)) + tod;
}

// "<day name>, DD<sep>Mon<sep>YEAR HH:MM:SS GMT": the two forms below differ only in the day
// names, the separator and the year's digits.
struct DayFirstDate {
  int year = 0;
  std::optional<unsigned> month;
  int day = 0;
  seconds time{};
};

template <std::size_t N>
std::optional<DayFirstDate> day_first_date(std::string_view v, const std::array<std::string_view, N>& day_names,
                                           std::string_view sep, std::size_t year_digits) {
  Cursor c{v};
  if (!c.one_of(day_names) || !c.lit(", ")) return std::nullopt;
  auto d = c.digits(2);
  if (!d || !c.lit(sep)) return std::nullopt;
  auto mon = c.one_of(kMonths);
  if (!c.lit(sep)) return std::nullopt;
  auto y = c.digits(year_digits);
  if (!y || !c.lit(" ")) return std::nullopt;
  auto tod = time_of_day(c);
  if (!tod || !c.lit(" GMT") || !c.done()) return std::nullopt;
  return DayFirstDate{*y, mon, *d, *tod};
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<sys_seconds> imf_fixdate(std::string_view v) {
  auto f = day_first_date(v, kDays, " ", 4);
  if (!f) return std::nullopt;
  return at(f->year, f->month, f->day, f->time);
}

// "Sunday, 06-Nov-94 08:49:37 GMT": a two-digit year more than 50 years
// ahead of now means the most recent past year ending in those digits.
std::optional<sys_seconds> rfc850_date(std::string_view v, sys_seconds now) {
  auto f = day_first_date(v, kLongDays, "-", 2);
  if (!f) return std::nullopt;
  int this_year = static_cast<int>(year_month_day(floor<days>(now)).year());
  int y = this_year / 100 * 100 + f->year;
  if (y > this_year + 50) y -= 100;
  return at(y, f->month, f->day, f->time);
}

// "Sun Nov  6 08:49:37 1994"
std::optional<sys_seconds> asctime_date(std::string_view v) {
  Cursor c{v};
  if (!c.one_of(kDays) || !c.lit(" ")) return std::nullopt;
  auto mon = c.one_of(kMonths);
  if (!c.lit(" ")) return std::nullopt;
  auto d = c.lit(" ") ? c.digits(1) : c.digits(2);
  if (!d || !c.lit(" ")) return std::nullopt;
  auto tod = time_of_day(c);
  if (!tod || !c.lit(" ")) return std::nullopt;
  auto y = c.digits(4);
  if (!y || !c.done()) return std::nullopt;
  return at(*y, mon, *d, *tod);
}

// 1*DIGIT, saturating instead of overflowing.
std::optional<seconds> delta_seconds(std::string_view v) {
  if (v.empty()) return std::nullopt;
  long long n = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9') return std::nullopt;
    if (n < kRetryAfterSaturation.count()) n = n * 10 + (ch - '0');
  }
  return std::min(seconds(n), kRetryAfterSaturation);
}

}  // namespace

Result<seconds> parse_retry_after(std::string_view value, system_clock::time_point now) {
  std::string_view v = trim(value);
  if (auto delta = delta_seconds(v)) return *delta;
  auto now_s = floor<seconds>(now);
  std::optional<sys_seconds> when = imf_fixdate(v);
  if (!when) when = rfc850_date(v, now_s);
  if (!when) when = asctime_date(v);
  if (!when)
    return fail(ErrorKind::Protocol, "Retry-After value '" + escape_control(value, 100) +
                                         "' is neither delta-seconds nor an HTTP-date");
  if (*when <= now_s) return seconds(0);
  return std::min(duration_cast<seconds>(*when - now_s), kRetryAfterSaturation);
}

}  // namespace certagent::protocol
