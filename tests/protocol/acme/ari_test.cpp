// RFC 3339 date-times in renewalInfo. Found by fuzz_acme_renewal_info: a window in the year
// 9999 (or 0000) overflowed the nanosecond clock (undefined behaviour), and signs or empty
// fractions were taken where the grammar has digits.
#include <gtest/gtest.h>

#include "protocol/acme/ari.hpp"

namespace certagent::protocol {
namespace {

TEST(Rfc3339, DatesTheClockCannotHoldAreRefusedNotOverflowed) {
  for (const char* text : {"9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "2262-04-12T00:00:00Z",
                           "1677-09-20T00:00:00Z"}) {
    auto t = parse_acme_time(text);
    ASSERT_FALSE(t) << text;
    EXPECT_EQ(t.error().kind, ErrorKind::Protocol);
    EXPECT_NE(t.error().message.find("outside the dates"), std::string::npos) << t.error().message;
  }
  EXPECT_TRUE(parse_acme_time("2261-12-31T23:59:59Z"));
  EXPECT_TRUE(parse_acme_time("1970-01-01T00:00:00Z"));
  auto window = parse_renewal_info(R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"9999-12-31T23:59:60Z"}})");
  ASSERT_FALSE(window);
  EXPECT_NE(window.error().message.find("outside the dates"), std::string::npos) << window.error().message;
}

TEST(Rfc3339, SignsWhereDigitsBelongAreRefused) {
  for (const char* text : {"2025-01-02T-1:00:00Z", "2025-01-02T04:-1:00Z", "2025-01-02T04:00:-1Z", "-025-01-02T04:00:00Z",
                           "2025-01-02T04:00:00+-1:00", "2025-01-02T04:00:00+01:-1"})
    EXPECT_FALSE(parse_acme_time(text)) << text;
}

TEST(Rfc3339, AFractionNeedsADigitAndAnOffsetMustBeATime) {
  EXPECT_FALSE(parse_acme_time("2025-01-02T04:00:00.Z"));
  EXPECT_FALSE(parse_acme_time("2025-01-02T04:00:00+24:00"));
  EXPECT_FALSE(parse_acme_time("2025-01-02T04:00:00+01:60"));
  EXPECT_EQ(*parse_acme_time("2025-01-02T04:00:00.5Z"), *parse_acme_time("2025-01-02T04:00:00Z"));
  EXPECT_EQ(*parse_acme_time("2025-01-02T03:00:00-01:00"), *parse_acme_time("2025-01-02T04:00:00Z"));
}

}  // namespace
}  // namespace certagent::protocol
