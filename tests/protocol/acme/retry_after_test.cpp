#include "protocol/acme/retry_after.hpp"

#include <gtest/gtest.h>

#include <string>

namespace certagent::protocol {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// 1994-11-06 08:49:00 UTC, a minute before RFC 9110's example date.
const system_clock::time_point kNow = sys_days(year{1994} / November / 6) + 8h + 49min;

struct Good {
  std::string value;
  seconds expected;
};

TEST(RetryAfter, ParsesEveryAcceptedForm) {
  const Good cases[] = {
      {"0", 0s},
      {"120", 120s},
      {"  7\t", 7s},
      {"000042", 42s},
      {"Sun, 06 Nov 1994 08:49:37 GMT", 37s},      // IMF-fixdate
      {"Sunday, 06-Nov-94 08:49:37 GMT", 37s},     // RFC 850
      {"Sun Nov  6 08:49:37 1994", 37s},           // asctime, one-digit day
      {"Mon Nov 07 08:49:00 1994", 24h},           // asctime, two-digit day
      {"Sun, 06 Nov 1994 08:48:00 GMT", 0s},       // in the past
      {"Mon, 01 Jan 1990 00:00:00 GMT", 0s},       // far past
      {"Tue, 06 Dec 1994 08:49:00 GMT", 30 * 24h},
      {"Sun, 06 Nov 1994 08:49:60 GMT", 60s},      // leap second
      {"Thu, 29 Feb 1996 08:49:00 GMT", duration_cast<seconds>(sys_days(year{1996} / February / 29) + 8h + 49min - kNow)},
  };
  for (const auto& c : cases) {
    auto r = parse_retry_after(c.value, kNow);
    ASSERT_TRUE(r) << c.value << ": " << r.error().message;
    EXPECT_EQ(*r, c.expected) << c.value;
  }
}

TEST(RetryAfter, Rfc850TwoDigitYearsFollowTheFiftyYearRule) {
  const auto now2030 = sys_days(year{2030} / January / 1) + 0s;
  // 79 → 2079 is 49 years ahead: accepted as the future.
  auto future = parse_retry_after("Friday, 01-Jan-79 00:00:00 GMT", now2030);
  ASSERT_TRUE(future);
  EXPECT_EQ(*future, duration_cast<seconds>(sys_days(year{2079} / January / 1) - now2030));
  // 81 → 2081 would be 51 years ahead: it means 1981, in the past.
  auto past = parse_retry_after("Thursday, 01-Jan-81 00:00:00 GMT", now2030);
  ASSERT_TRUE(past);
  EXPECT_EQ(*past, 0s);
}

TEST(RetryAfter, RefusesGarbage) {
  const std::string bad[] = {
      "",
      "   ",
      "-1",
      "+5",
      "1.5",
      "1e3",
      "5 seconds",
      "0x10",
      "soon",
      "thirty years",
      "Sun, 06 Nov 1994 08:49:37 UTC",   // other zone
      "Sun, 06 Nov 1994 08:49:37 GMT x", // trailing text
      "Sun, 6 Nov 1994 08:49:37 GMT",    // IMF needs two-digit day
      "Sun, 31 Nov 1994 08:49:37 GMT",   // no 31 November
      "Sun, 29 Feb 1995 08:49:37 GMT",   // not a leap year
      "Sun, 00 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 24:00:00 GMT",
      "Sun, 06 Nov 1994 08:60:00 GMT",
      "Sun, 06 Nov 1994 08:49:61 GMT",
      "Sun, 06 Xyz 1994 08:49:37 GMT",
      "Sny, 06 Nov 1994 08:49:37 GMT",
      "sun, 06 nov 1994 08:49:37 gmt",   // names are case-sensitive
      "Sun, 06 Nov 94 08:49:37 GMT",
      "Sunday, 06-Nov-1994 08:49:37 GMT",
      "Sun Nov 6 08:49:37 1994",         // asctime needs the padding space
      "Sun Nov  6 08:49:37 1994 GMT",
      std::string("12\0" "3", 4),
      "\x1b[31m120",
      std::string(100000, 'x'),
  };
  for (const auto& b : bad) {
    auto r = parse_retry_after(b, kNow);
    EXPECT_FALSE(r) << "accepted: " << b.substr(0, 60);
    if (!r) {
      EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
      EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
      EXPECT_LT(r.error().message.size(), 300u);
    }
  }
}

TEST(RetryAfter, EnormousValuesSaturateInsteadOfOverflowing) {
  auto r = parse_retry_after(std::string(10000, '9'), kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, kRetryAfterSaturation);
  auto r2 = parse_retry_after("9223372036854775808", kNow);  // INT64_MAX + 1
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, kRetryAfterSaturation);
  auto far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", kNow);
  ASSERT_TRUE(far);
  EXPECT_EQ(*far, kRetryAfterSaturation);
}

TEST(RetryAfter, ClampBoundsZeroForeverAndThirtyYears) {
  constexpr auto lo = 1s, hi = duration_cast<seconds>(24h);
  EXPECT_EQ(clamp_retry_after(0s, lo, hi), 1s);
  EXPECT_EQ(clamp_retry_after(duration_cast<seconds>(30 * 365 * 24h), lo, hi), hi);
  EXPECT_EQ(clamp_retry_after(90s, lo, hi), 90s);
  EXPECT_EQ(clamp_retry_after(kRetryAfterSaturation, lo, hi), hi);
  auto thirty_years = parse_retry_after(std::to_string(30LL * 365 * 24 * 3600), kNow);
  ASSERT_TRUE(thirty_years);
  EXPECT_EQ(clamp_retry_after(*thirty_years, lo, hi), hi);
  static_assert(clamp_retry_after(0s, 1s, 10s) == 1s);
}

}  // namespace
}  // namespace certagent::protocol
