// The one RFC 3339 parser and formatter (common/rfc3339.hpp): what the state directory's files
// and CAs' times go through.
#include <gtest/gtest.h>

#include "common/rfc3339.hpp"

namespace certagent {
namespace {

using namespace std::chrono;

TEST(Rfc3339, ReadsOffsetsFractionsAndEitherCase) {
  const sys_seconds t = sys_days(year(2025) / 1 / 2) + hours(4);
  EXPECT_EQ(parse_rfc3339("2025-01-02T04:00:00Z").value(), t);
  EXPECT_EQ(parse_rfc3339("2025-01-02t04:00:00z").value(), t);
  EXPECT_EQ(parse_rfc3339("2025-01-02T05:30:00.123+01:30").value(), t);
  EXPECT_EQ(parse_rfc3339("2025-01-02T03:00:00-01:00").value(), t);
  EXPECT_EQ(format_rfc3339(t), "2025-01-02T04:00:00Z");
  EXPECT_EQ(parse_rfc3339(format_rfc3339(t)).value(), t);
}

TEST(Rfc3339, ALeapSecondIsTheLastSecondOfItsMinute) {
  EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z").value(), parse_rfc3339("2016-12-31T23:59:59Z").value());
}

TEST(Rfc3339, RefusesWhatTheGrammarDoesNotAllowQuotingItEscaped) {
  for (const char* text : {"2025-02-30T00:00:00Z", "2025-01-02 04:00:00Z", "2025-01-02T04:00:00", "2025-01-02T04:00:00.Z",
                           "2025-01-02T04:00:00+24:00", "2025-01-02T04:00:00+01:60", "2025-01-02T-1:00:00Z",
                           "-025-01-02T04:00:00Z", "2025-01-02T04:00:00+-1:00", "2025-01-02T24:00:00Z"}) {
    auto t = parse_rfc3339(text);
    ASSERT_FALSE(t) << text;
    EXPECT_EQ(t.error().kind, ErrorKind::Invalid);
    EXPECT_NE(t.error().message.find("is not an RFC 3339 date-time"), std::string::npos) << t.error().message;
  }
  auto hostile = parse_rfc3339("2025-01-02T04:00:00Z\x1b[2J\n");
  ASSERT_FALSE(hostile);
  EXPECT_EQ(hostile.error().message.find('\x1b'), std::string::npos) << "no escape sequence reaches a message";
  EXPECT_EQ(hostile.error().message.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace certagent
