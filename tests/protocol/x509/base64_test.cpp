#include <gtest/gtest.h>

#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace {

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64, UrlDecodeRoundTripsAndRefusesStdAlphabet) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_EQ(*base64url_decode(base64url_encode(bytes)), bytes);
  EXPECT_FALSE(base64url_decode("ab+/"));
  EXPECT_FALSE(base64url_decode("a"));
  EXPECT_TRUE(base64_any_decode("ab+/"));
  EXPECT_EQ(*base64_any_decode("-_8="), "\xfb\xff");
}

TEST(Base64, IsBase64UrlRefusesPathTricks) {
  EXPECT_TRUE(is_base64url("abc-_XYZ09"));
  EXPECT_FALSE(is_base64url(""));
  EXPECT_FALSE(is_base64url("../../etc"));
  EXPECT_FALSE(is_base64url("a/b"));
  EXPECT_FALSE(is_base64url(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace certagent::protocol
