#include <gtest/gtest.h>

#include "policy/idna.hpp"

namespace certagent::policy {
namespace {

TEST(Idna, GivesTheALabelFormOfEachUnicodeLabel) {
  // Expected values from RFC 3492 / well-known registrations.
  EXPECT_EQ(to_a_label_form("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(to_a_label_form("münchen.de"), "xn--mnchen-3ya.de");
  EXPECT_EQ(to_a_label_form("españa.com"), "xn--espaa-rta.com");
  EXPECT_EQ(to_a_label_form("日本語.jp"), "xn--wgv71a119e.jp");
  EXPECT_EQ(to_a_label_form("Meet.bücher.Example"), "meet.xn--bcher-kva.example");
}

TEST(Idna, RefusesInvalidUtf8) { EXPECT_FALSE(to_a_label_form("b\xfc" "cher.example")); }

}  // namespace
}  // namespace certagent::policy
