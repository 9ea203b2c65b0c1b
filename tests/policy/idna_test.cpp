#include <gtest/gtest.h>

#include "policy/idna.hpp"

namespace certagent::policy {
namespace {

std::string a_label(std::string_view name) {
  auto r = to_a_label_form(name);
  return r ? *r : "error: " + r.error().message;
}

TEST(Idna, GivesTheALabelFormOfEachUnicodeLabel) {
  EXPECT_EQ(a_label("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(a_label("münchen.de"), "xn--mnchen-3ya.de");
  EXPECT_EQ(a_label("españa.com"), "xn--espaa-rta.com");
  EXPECT_EQ(a_label("日本語.jp"), "xn--wgv71a119e.jp");
  EXPECT_EQ(a_label("Meet.bücher.Example"), "meet.xn--bcher-kva.example");
}

// UTS #46 maps upper case before encoding: the hand-written punycode encoded 'Ü' itself and
// suggested xn--bcher-2pa, which no resolver or CA would ever look up.
TEST(Idna, MapsUpperAndMixedCaseInput) {
  EXPECT_EQ(a_label("BÜCHER.example"), "xn--bcher-kva.example");
  EXPECT_EQ(a_label("BüCHER.EXAMPLE"), "xn--bcher-kva.example");
  EXPECT_EQ(a_label("MÜNCHEN.de"), "xn--mnchen-3ya.de");
}

TEST(Idna, NormalisesDecomposedInputToNfc) {
  EXPECT_EQ(a_label("bu\xcc\x88" "cher.example"), "xn--bcher-kva.example");  // u + COMBINING DIAERESIS
}

// Non-transitional (IDNA2008): ß is a letter of its own, not "ss".
TEST(Idna, IsNonTransitional) { EXPECT_EQ(a_label("straße.de"), "xn--strae-oqa.de"); }

TEST(Idna, KeepsAWildcardLabel) { EXPECT_EQ(a_label("*.bücher.example"), "*.xn--bcher-kva.example"); }

TEST(Idna, RefusesInvalidUtf8AndDisallowedCodePoints) {
  auto bad_utf8 = to_a_label_form("b\xfc" "cher.example");
  ASSERT_FALSE(bad_utf8);
  EXPECT_EQ(bad_utf8.error().kind, ErrorKind::Invalid);
  EXPECT_NE(bad_utf8.error().message.find("libidn2"), std::string::npos) << bad_utf8.error().message;
  EXPECT_FALSE(to_a_label_form("a\xe2\x80\xae" "b.example"));  // RIGHT-TO-LEFT OVERRIDE
}

}  // namespace
}  // namespace certagent::policy
