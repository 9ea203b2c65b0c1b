// common/text.hpp: the small ASCII helpers written once.
#include <gtest/gtest.h>

#include "common/text.hpp"

namespace certagent {
namespace {

TEST(Text, AsciiLowerTouchesOnlyAsciiLetters) {
  EXPECT_EQ(ascii_lower("Lyncdiscover.CONTOSO.com"), "lyncdiscover.contoso.com");
  EXPECT_EQ(ascii_lower("BÜCHER"), "b\xc3\x9c" "cher") << "UTF-8 bytes stay as they are";
  EXPECT_EQ(ascii_lower("3FA1C09B"), "3fa1c09b");
}

TEST(Text, TrimTakesSpacesAndTabsFromBothEnds) {
  EXPECT_EQ(trim(" \t 120 \t"), "120");
  EXPECT_EQ(trim("  "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("a b"), "a b");
}

TEST(Text, CanonicalDnsNameIgnoresCaseAndOneTrailingDot) {
  EXPECT_EQ(canonical_dns_name("Pool01.Contoso.COM."), "pool01.contoso.com");
  EXPECT_EQ(canonical_dns_name("a.example.."), "a.example.");
  EXPECT_EQ(canonical_dns_name(""), "");
}

}  // namespace
}  // namespace certagent
