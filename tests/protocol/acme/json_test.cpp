// sanitize(): CA text on its way into messages and logs. Found by fuzz_acme_problem and
// fuzz_acme_order: a cut in the middle of a multi-byte character left invalid UTF-8 in the
// message (journald then stores the whole line as a blob), and bytes that are not UTF-8 (a
// Content-Type header, a certificate subject) were copied raw.
#include <gtest/gtest.h>

#include "common/utf8.hpp"
#include "protocol/acme/json.hpp"

namespace certagent::protocol {
namespace {

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = utf8_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

TEST(Sanitize, CutsBetweenCharactersNeverInsideOne) {
  const std::string euros = "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac";  // 4 x U+20AC, 3 bytes each
  EXPECT_EQ(sanitize(euros, 10), "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac...");
  EXPECT_EQ(sanitize(euros, 2), "...");
  for (size_t max = 0; max <= euros.size() + 1; ++max) EXPECT_TRUE(valid_utf8(sanitize(euros, max))) << max;
  EXPECT_EQ(sanitize("ab\xf0\x9f\x98\x80", 5), "ab...");  // a 4-byte emoji does not fit in 3
}

TEST(Sanitize, BytesThatAreNotUtf8BecomeQuestionMarks) {
  EXPECT_EQ(sanitize("a\xff" "b"), "a?b");
  EXPECT_EQ(sanitize("\x80x"), "?x");                      // stray continuation byte
  EXPECT_EQ(sanitize("\xc3(x"), "?(x");                     // truncated sequence
  EXPECT_EQ(sanitize("\xed\xa0\x80"), "???");               // UTF-16 surrogate
  EXPECT_EQ(sanitize("\xc0\xaf"), "??");                    // overlong '/'
  EXPECT_EQ(sanitize("ok\xc3"), "ok?");                     // cut off at the end
}

TEST(Sanitize, ControlsStillBecomeQuestionMarksAndUtf8StaysReadable) {
  EXPECT_EQ(sanitize("x\xc2\x9b" "2J\xc2\xa0y"), "x?2J\xc2\xa0y");  // C1 CSI replaced, NBSP kept
  EXPECT_EQ(sanitize("caf\xc3\xa9\x1b[0m"), "caf\xc3\xa9?[0m");
}

}  // namespace
}  // namespace certagent::protocol
