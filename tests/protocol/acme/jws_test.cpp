#include <gtest/gtest.h>

#include <openssl/ec.h>
#include <openssl/hmac.h>

#include "acme_fakes.hpp"
#include "protocol/acme/jws.hpp"

namespace certagent::protocol {
namespace {
using testing::decode_jws;
using testing::SentJws;

// Verifies a JWS signature independently of the signer (raw r||s back to DER for EC).
bool verify(const PrivateKey& key, const SentJws& sent) {
  std::string input = std::string(sent.jws.at("protected").as_string()) + "." +
                      std::string(sent.jws.at("payload").as_string());
  std::string sig = *base64url_decode(std::string(sent.jws.at("signature").as_string()));
  const EVP_MD* md = key.type() == KeyType::EcP384 ? EVP_sha384() : EVP_sha256();
  if (key.type() == KeyType::EcP256 || key.type() == KeyType::EcP384) {
    size_t w = sig.size() / 2;
    ossl::EcdsaSig es(ECDSA_SIG_new());
    auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG_set0(es.get(), BN_bin2bn(p, static_cast<int>(w), nullptr), BN_bin2bn(p + w, static_cast<int>(w), nullptr));
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &der);
    sig.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get());
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

struct AlgCase {
  KeyType type;
  const char* alg;
  size_t sig_len;
};
class JwsAlgorithms : public ::testing::TestWithParam<AlgCase> {};

TEST_P(JwsAlgorithms, SignsWithTheRightAlgorithmAndVerifies) {
  auto key = PrivateKey::generate(GetParam().type);
  ASSERT_TRUE(key);
  auto body = sign_jws(JwsSigner{*key, "https://ca.test/acct/1"}, "https://ca.test/order", "n1", R"({"a":1})");
  ASSERT_TRUE(body) << body.error().message;
  auto sent = decode_jws(*body);
  EXPECT_EQ(sent.header.at("alg").as_string(), GetParam().alg);
  EXPECT_EQ(base64url_decode(std::string(sent.jws.at("signature").as_string()))->size(), GetParam().sig_len);
  EXPECT_TRUE(verify(*key, sent));
}

INSTANTIATE_TEST_SUITE_P(All, JwsAlgorithms,
                         ::testing::Values(AlgCase{KeyType::EcP256, "ES256", 64}, AlgCase{KeyType::EcP384, "ES384", 96},
                                           AlgCase{KeyType::Rsa2048, "RS256", 256}));

TEST(Jws, KidHeaderWhenAnAccountExistsJwkBefore) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  auto with_kid = decode_jws(*sign_jws(JwsSigner{*key, "https://ca.test/acct/7"}, "https://ca.test/x", "n", "{}"));
  EXPECT_EQ(with_kid.header.at("kid").as_string(), "https://ca.test/acct/7");
  EXPECT_FALSE(with_kid.header.contains("jwk"));
  auto with_jwk = decode_jws(*sign_jws(JwsSigner{*key, ""}, "https://ca.test/x", "n", "{}"));
  EXPECT_FALSE(with_jwk.header.contains("kid"));
  EXPECT_EQ(with_jwk.header.at("jwk").as_object(), *public_jwk(*key));
}

TEST(Jws, UrlExactlyAsGivenNonceAndEmptyPayloadForPostAsGet) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  const std::string url = "https://ca.test:14000/authZ/AbC?x=1&y=%2F";
  auto sent = decode_jws(*sign_jws(JwsSigner{*key, "k"}, url, "nonce-1", ""));
  EXPECT_EQ(sent.header.at("url").as_string(), url);
  EXPECT_EQ(sent.header.at("nonce").as_string(), "nonce-1");
  EXPECT_EQ(sent.jws.at("payload").as_string(), "");
  EXPECT_TRUE(verify(*key, sent));
}

TEST(Jws, NoNonceMemberWhenNoneGiven) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  auto sent = decode_jws(*sign_jws(JwsSigner{*key, ""}, "https://ca.test/kc", "", "{}"));
  EXPECT_FALSE(sent.header.contains("nonce"));
}

TEST(Jws, ThumbprintOfTheRfc7638Example) {
  // RFC 7638 §3.1.
  boost::json::object jwk{
      {"kty", "RSA"},
      {"n", "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"}};
  EXPECT_EQ(*jwk_thumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(Jws, PublicJwkIsCanonicalAndFixedWidth) {
  auto key = PrivateKey::generate(KeyType::EcP384);
  auto jwk = *public_jwk(*key);
  EXPECT_EQ(jwk.at("crv").as_string(), "P-384");
  EXPECT_EQ(base64url_decode(std::string(jwk.at("x").as_string()))->size(), 48u);
  EXPECT_EQ(base64url_decode(std::string(jwk.at("y").as_string()))->size(), 48u);
  std::string text = boost::json::serialize(jwk);
  EXPECT_TRUE(text.starts_with(R"({"crv":"P-384","kty":"EC","x":")")) << text;
  EXPECT_EQ(*jwk_thumbprint(*key), *jwk_thumbprint(jwk));
}

TEST(Jws, KeyAuthorizationIsTokenDotThumbprint) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  EXPECT_EQ(*key_authorization("tok_en-1", *key), "tok_en-1." + *jwk_thumbprint(*key));
  EXPECT_EQ(dns01_value("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");  // b64url(sha256("abc"))
}

std::string hmac_b64url(std::string_view key, std::string_view data) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return base64url_encode(std::string_view(reinterpret_cast<char*>(out), len));
}

TEST(Jws, ExternalAccountBindingIsHs256OverTheAccountJwk) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  std::string mac = "\xfb\xff\x01secret-mac-key-bytes\xfe";
  auto eab = eab_jws(*key, "kid-1", base64url_encode(mac), "https://ca.test/acct");
  ASSERT_TRUE(eab) << eab.error().message;
  auto header = boost::json::parse(*base64url_decode(std::string(eab->at("protected").as_string()))).as_object();
  EXPECT_EQ(header.at("alg").as_string(), "HS256");
  EXPECT_EQ(header.at("kid").as_string(), "kid-1");
  EXPECT_EQ(header.at("url").as_string(), "https://ca.test/acct");
  EXPECT_FALSE(header.contains("nonce"));
  auto payload = boost::json::parse(*base64url_decode(std::string(eab->at("payload").as_string())));
  EXPECT_EQ(payload.as_object(), *public_jwk(*key));
  std::string input = std::string(eab->at("protected").as_string()) + "." + std::string(eab->at("payload").as_string());
  EXPECT_EQ(eab->at("signature").as_string(), hmac_b64url(mac, input));
  // The same MAC key in standard base64 (with padding) gives the same binding.
  auto eab_std = eab_jws(*key, "kid-1", base64_encode(mac), "https://ca.test/acct");
  ASSERT_TRUE(eab_std);
  EXPECT_EQ(eab_std->at("signature"), eab->at("signature"));
}

TEST(Jws, ExternalAccountBindingRefusesABadMacKeyOrEmptyKid) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  auto bad = eab_jws(*key, "kid", "not base64 !!", "https://ca.test/acct");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Invalid);
  EXPECT_NE(bad.error().message.find("MAC key"), std::string::npos);
  EXPECT_FALSE(eab_jws(*key, "", "AAAA", "https://ca.test/acct"));
}

}  // namespace
}  // namespace certagent::protocol
