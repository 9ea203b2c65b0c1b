#include <gtest/gtest.h>

#include <algorithm>

#include <openssl/x509.h>

#include "protocol/x509/der.hpp"

namespace certagent::protocol {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int c : b) out.push_back(static_cast<char>(c));
  return out;
}

TEST(Der, LengthsUseTheShortFormBelow128AndTheShortestLongFormAbove) {
  EXPECT_EQ(der::tlv(0x04, ""), bytes({0x04, 0x00}));
  EXPECT_EQ(der::tlv(0x04, std::string(127, 'a')).substr(0, 2), bytes({0x04, 0x7f}));
  EXPECT_EQ(der::tlv(0x04, std::string(128, 'a')).substr(0, 3), bytes({0x04, 0x81, 0x80}));
  EXPECT_EQ(der::tlv(0x04, std::string(255, 'a')).substr(0, 3), bytes({0x04, 0x81, 0xff}));
  EXPECT_EQ(der::tlv(0x04, std::string(256, 'a')).substr(0, 4), bytes({0x04, 0x82, 0x01, 0x00}));
  const std::string big = der::tlv(0x04, std::string(70000, 'a'));
  EXPECT_EQ(big.substr(0, 5), bytes({0x04, 0x83, 0x01, 0x11, 0x70}));
  EXPECT_EQ(big.size(), 5u + 70000u);
}

TEST(Der, UnsignedIntegersAreMinimalAndNeverNegative) {
  EXPECT_EQ(der::unsigned_integer(""), bytes({0x02, 0x01, 0x00}));
  EXPECT_EQ(der::unsigned_integer(bytes({0x00, 0x00})), bytes({0x02, 0x01, 0x00}));
  EXPECT_EQ(der::unsigned_integer(bytes({0x00, 0x7f})), bytes({0x02, 0x01, 0x7f}));
  EXPECT_EQ(der::unsigned_integer(bytes({0x80})), bytes({0x02, 0x02, 0x00, 0x80}));
  EXPECT_EQ(der::unsigned_integer(bytes({0x01, 0x00, 0x01})), bytes({0x02, 0x03, 0x01, 0x00, 0x01}));
}

TEST(Der, BitStringsSayNoUnusedBits) { EXPECT_EQ(der::bit_string("\x01"), bytes({0x03, 0x02, 0x00, 0x01})); }

class DerKeys : public ::testing::TestWithParam<KeyType> {};

// The hand-built SubjectPublicKeyInfo is byte for byte what OpenSSL's encoder writes.
TEST_P(DerKeys, SubjectPublicKeyInfoIsWhatOpenSslWrites) {
  auto key = PrivateKey::generate(GetParam());
  ASSERT_TRUE(key) << key.error().message;
  auto spki = der::subject_public_key_info(*key);
  ASSERT_TRUE(spki) << spki.error().message;
  unsigned char* raw = nullptr;
  const int len = i2d_PUBKEY(key->get(), &raw);
  ASSERT_GT(len, 0);
  const std::string openssl(reinterpret_cast<char*>(raw), static_cast<size_t>(len));
  OPENSSL_free(raw);
  EXPECT_EQ(*spki, openssl);
  const auto* p = reinterpret_cast<const unsigned char*>(spki->data());
  ossl::PKey back(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki->size())));
  ASSERT_TRUE(back);
  EXPECT_EQ(EVP_PKEY_eq(back.get(), key->get()), 1);
}

INSTANTIATE_TEST_SUITE_P(All, DerKeys,
                         ::testing::Values(KeyType::EcP256, KeyType::EcP384, KeyType::Rsa2048, KeyType::Rsa3072),
                         [](const auto& info) {
                           std::string name(to_string(info.param));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace certagent::protocol
