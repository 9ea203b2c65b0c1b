// PKCS#12 bundles: key, leaf and chain survive the round trip; the MAC is
// SHA-256 and the bags use PBES2/AES-256-CBC; the wrong password is refused.
#include "protocol/x509/pkcs12.hpp"

#include <gtest/gtest.h>

#include <openssl/objects.h>

#include <algorithm>

#include "support/test_pki.hpp"

namespace certagent::protocol {
namespace {

using namespace certagent::testing::pki;

struct Bundle {
  TestCa root{"p12 root"};
  TestCa issuer = root.intermediate("p12 issuer");
  PrivateKey key = new_key(KeyType::Rsa2048);
  Certificate leaf = issuer.issue(key, leaf_spec());
  static CertSpec leaf_spec() {
    CertSpec spec;
    spec.dns_names = {"a.example", "b.example"};
    return spec;
  }
  Pkcs12Input input() const {
    return Pkcs12Input{&key, &leaf, {&issuer.certificate(), &root.certificate()}, "Default", 1000};
  }
};

TEST(Pkcs12, RoundTripsKeyLeafAndChainWithASha256Mac) {
  Bundle b;
  auto der = make_pkcs12(b.input(), "s3cret pass");
  ASSERT_TRUE(der) << der.error().message;
  auto back = read_pkcs12(*der, "s3cret pass");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(EVP_PKEY_eq(back->key.get(), b.key.get()), 1);
  EXPECT_EQ(must(back->leaf.der()), must(b.leaf.der()));
  ASSERT_EQ(back->chain.size(), 2u);
  std::vector<std::string> chain_der;
  for (const auto& c : back->chain) chain_der.push_back(must(c.der()));
  {
    // PKCS12_parse does not promise the order of the extra certificates.
    std::vector<std::string> want = {must(b.issuer.certificate().der()), must(b.root.certificate().der())};
    std::sort(chain_der.begin(), chain_der.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(chain_der, want);
  }
  EXPECT_EQ(back->mac_digest_nid, NID_sha256);
}

TEST(Pkcs12, AnEmptyPasswordStillRoundTrips) {
  Bundle b;
  auto in = b.input();
  in.chain.clear();
  auto der = make_pkcs12(in, "");
  ASSERT_TRUE(der) << der.error().message;
  auto back = read_pkcs12(*der, "");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(EVP_PKEY_eq(back->key.get(), b.key.get()), 1);
  EXPECT_TRUE(back->chain.empty());
}

TEST(Pkcs12, TheWrongPasswordIsRefusedWithoutEchoingIt) {
  Bundle b;
  auto der = make_pkcs12(b.input(), "right-password");
  ASSERT_TRUE(der);
  auto back = read_pkcs12(*der, "wrong-password");
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("wrong password"), std::string::npos) << back.error().message;
  EXPECT_EQ(back.error().message.find("wrong-password"), std::string::npos) << back.error().message;
}

TEST(Pkcs12, AKeyThatDoesNotMatchTheLeafIsRefused) {
  Bundle b;
  PrivateKey other = new_key();
  auto in = b.input();
  in.key = &other;
  auto der = make_pkcs12(in, "x");
  ASSERT_FALSE(der);
  EXPECT_NE(der.error().message.find("PKCS#12"), std::string::npos) << der.error().message;
}

TEST(Pkcs12, GarbageIsNotABundle) {
  EXPECT_FALSE(read_pkcs12("not a pkcs12 bundle", "x"));
  EXPECT_FALSE(read_pkcs12("", ""));
}

}  // namespace
}  // namespace certagent::protocol
