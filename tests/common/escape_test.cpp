// escape_control(): untrusted text (CA strings, hook output, names from a policy) on its way
// into messages and logs — the one escaper (issue 14; issue 22 item 3: names as written). Found
// by fuzz_acme_problem and fuzz_acme_order when it still lived in protocol/acme: a cut in the
// middle of a multi-byte character left invalid UTF-8 in the message (journald then stores the
// whole line as a blob), and bytes that are not UTF-8 were copied raw.
#include <gtest/gtest.h>

#include <string>

#include "common/escape.hpp"
#include "common/utf8.hpp"

namespace certagent {
namespace {

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = utf8_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

TEST(EscapeControl, PrintableUtf8IsShownAsWritten) {
  EXPECT_EQ(escape_control("m\xc3\xbcnchen.example"), "m\xc3\xbcnchen.example");  // münchen
  EXPECT_EQ(escape_control("\xe4\xbe\x8b\xe3\x81\x88.jp"), "\xe4\xbe\x8b\xe3\x81\x88.jp");
  EXPECT_EQ(escape_control("x\xc2\xa0y"), "x\xc2\xa0y");  // NBSP is printable
  EXPECT_EQ(escape_control("ok \xf0\x9f\x98\x80"), "ok \xf0\x9f\x98\x80");
}

TEST(EscapeControl, ControlsBecomeEscapesC0AsHexC1AndBidiAsCodePoints) {
  EXPECT_EQ(escape_control("a\x1b]0;x\x07" "b"), "a\\x1b]0;x\\x07b");
  EXPECT_EQ(escape_control("x\xc2\x9b" "2Jy"), "x\\u{009b}2Jy");  // C1 CSI
  EXPECT_EQ(escape_control("caf\xc3\xa9\x1b[0m"), "caf\xc3\xa9\\x1b[0m");
  EXPECT_EQ(escape_control("admin\xe2\x80\xae" "gpj.exe"), "admin\\u{202e}gpj.exe");  // right-to-left override
  EXPECT_EQ(escape_control("a\xe2\x81\xa6" "b"), "a\\u{2066}b");                        // left-to-right isolate
  EXPECT_EQ(escape_control("l1\nl2\r\t\x7f"), "l1\\nl2\\r\\t\\x7f");
  EXPECT_EQ(escape_control("back\\slash"), "back\\\\slash");
}

TEST(EscapeControl, BytesThatAreNotUtf8BecomeHexEscapes) {
  EXPECT_EQ(escape_control("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(escape_control("\x80x"), "\\x80x");                   // stray continuation byte
  EXPECT_EQ(escape_control("\xc3(x"), "\\xc3(x");                 // truncated sequence
  EXPECT_EQ(escape_control("\xed\xa0\x80"), "\\xed\\xa0\\x80");   // UTF-16 surrogate
  EXPECT_EQ(escape_control("\xc0\xaf"), "\\xc0\\xaf");            // overlong '/'
  EXPECT_EQ(escape_control("ok\xc3"), "ok\\xc3");                 // cut off at the end
}

TEST(EscapeControl, CutsBetweenCharactersNeverInsideOne) {
  const std::string euros = "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac";  // 4 x U+20AC, 3 bytes each
  EXPECT_EQ(escape_control(euros, 10), "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac...");
  EXPECT_EQ(escape_control(euros, 2), "...");
  for (size_t max = 0; max <= euros.size() + 1; ++max) EXPECT_TRUE(valid_utf8(escape_control(euros, max))) << max;
  EXPECT_EQ(escape_control("ab\xf0\x9f\x98\x80", 5), "ab...");  // a 4-byte emoji does not fit in 3
  EXPECT_EQ(escape_control(std::string(500, 'a'), 10), std::string(10, 'a') + "...");
}

TEST(EscapeControl, TheResultIsValidUtf8WhateverTheInput) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_TRUE(valid_utf8(escape_control(all)));
  EXPECT_TRUE(valid_utf8(escape_control(all + all, 300)));
}

}  // namespace
}  // namespace certagent
