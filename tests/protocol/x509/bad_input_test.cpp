// Hostile and broken PEM/DER input: always a clear error value, never a crash or exception.
#include <gtest/gtest.h>

#include <random>

#include "protocol/x509/base64.hpp"
#include "protocol/x509/certificate.hpp"
#include "support/test_pki.hpp"

namespace certagent::protocol {
namespace {

using namespace certagent::testing::pki;

class BadPem : public ::testing::Test {
 protected:
  BadPem() {
    CertSpec spec;
    spec.dns_names = {"www.example.com"};
    leaf_pem_ = must(root_.issue(key_, spec).pem());
    chain_pem_ = leaf_pem_ + root_.pem();
  }

  // Parses and expects an error whose message contains `part`.
  Error expect_error(std::string_view pem, const std::string& part, const PemLimits& limits = {}) {
    Result<std::vector<Certificate>> r = fail(ErrorKind::Invalid, "not run");
    EXPECT_NO_THROW(r = parse_pem_chain(pem, limits));
    EXPECT_FALSE(r) << "expected an error containing: " << part;
    if (r) return {};
    EXPECT_NE(r.error().message.find(part), std::string::npos) << r.error().message;
    EXPECT_TRUE(r.error().message.starts_with("parsing a PEM certificate chain")) << r.error().message;
    return r.error();
  }

  // PEM armour around arbitrary bytes.
  static std::string armour(const std::string& label, const std::string& bytes) {
    std::string b64 = base64_encode(bytes);
    std::string out = "-----BEGIN " + label + "-----\n";
    for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
    return out + "-----END " + label + "-----\n";
  }

  TestCa root_;
  PrivateKey key_ = new_key();
  std::string leaf_pem_;
  std::string chain_pem_;
};

TEST_F(BadPem, EmptyOrBlankInputHasNoCertificate) {
  expect_error("", "no PEM CERTIFICATE block found");
  expect_error(" \n\r\n\t", "no PEM CERTIFICATE block found");
}

TEST_F(BadPem, TruncatedBlockHasNoEndLine) {
  expect_error(leaf_pem_.substr(0, leaf_pem_.size() / 2), "truncated PEM: the 'CERTIFICATE' block at line 1 has no END line");
  // A truncated first block followed by a whole one is still truncated, not merged.
  expect_error(leaf_pem_.substr(0, leaf_pem_.size() / 2) + root_.pem(), "truncated PEM");
  // Cut inside the END line.
  expect_error(leaf_pem_.substr(0, leaf_pem_.size() - 5), "truncated PEM");
}

TEST_F(BadPem, EveryPrefixIsAnErrorOrAShorterChain) {
  size_t first_end = leaf_pem_.size() - 1;  // just before the final newline of the leaf
  for (size_t n = 0; n <= chain_pem_.size(); ++n) {
    Result<std::vector<Certificate>> r = fail(ErrorKind::Invalid, "not run");
    ASSERT_NO_THROW(r = parse_pem_chain(std::string_view(chain_pem_).substr(0, n)));
    if (n < first_end) {
      EXPECT_FALSE(r) << "prefix " << n;
    } else if (r) {
      EXPECT_LE(r->size(), 2u);
    } else {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST_F(BadPem, NonCertificateBlockIsNamed) {
  expect_error(armour("X509 CRL", "whatever"), "found a 'X509 CRL' PEM block at line 1 (only CERTIFICATE blocks are accepted)");
  expect_error(armour("CERTIFICATE REQUEST", "x"), "'CERTIFICATE REQUEST'");
}

TEST_F(BadPem, PrivateKeyInsideAChainIsNamedButNotEchoed) {
  std::string key_pem = must(key_.to_pem());
  auto e = expect_error(leaf_pem_ + key_pem + root_.pem(), "found a 'PRIVATE KEY' PEM block at line");
  // Not one line of the key's base64 shows up in the message.
  std::string body_line = key_pem.substr(key_pem.find('\n') + 1, 20);
  EXPECT_EQ(e.message.find(body_line), std::string::npos);
}

TEST_F(BadPem, TextBeforeBetweenOrAfterBlocksIsRefused) {
  expect_error("hello\n" + chain_pem_, "unexpected text outside PEM blocks at line 1: 'hello'");
  expect_error(leaf_pem_ + "between\n" + root_.pem(), "unexpected text outside PEM blocks at line");
  expect_error(chain_pem_ + "trailing junk", "'trailing junk'");
  expect_error(chain_pem_ + std::string("\x01\x02\xff", 3), "'?" "?" "?'");
}

TEST_F(BadPem, CrlfLineEndsAndBlankLinesBetweenBlocksAreFine) {
  std::string crlf;
  for (char c : chain_pem_) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  auto r = parse_pem_chain("\r\n" + crlf + "\r\n\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), 2u);
}

TEST_F(BadPem, CorruptBase64IsACryptoError) {
  std::string broken = leaf_pem_;
  broken[40] = '!';
  auto e = expect_error(broken, "decoding the CERTIFICATE block at line 1");
  EXPECT_EQ(e.kind, ErrorKind::Crypto);
}

TEST_F(BadPem, CertificateLabelAroundOtherDerIsAnError) {
  std::string key_der = must(base64_any_decode(
      [&] {
        std::string pem = must(key_.public_pem());
        std::string body;
        for (size_t s = pem.find('\n') + 1, e; (e = pem.find('\n', s)) != std::string::npos; s = e + 1)
          if (pem.compare(s, 5, "-----") != 0) body += pem.substr(s, e - s);
        return body;
      }()));
  expect_error(armour("CERTIFICATE", key_der), "decoding a DER certificate");
}

TEST_F(BadPem, TrailingBytesAfterTheDerAreRefused) {
  std::string der = must(root_.certificate().der());
  expect_error(armour("CERTIFICATE", der + "xyz"), "3 unexpected bytes after the certificate");
}

TEST_F(BadPem, PemHeadersAreRefused) {
  std::string der = must(root_.certificate().der());
  std::string pem = armour("CERTIFICATE", der);
  pem.insert(pem.find('\n') + 1, "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n");
  expect_error(pem, "the CERTIFICATE block at line 1 has PEM headers");
}

TEST_F(BadPem, LimitsOnCountAndSizeHold) {
  std::string eleven;
  for (int i = 0; i < 11; ++i) eleven += root_.pem();
  expect_error(eleven, "more than 10 certificates");
  auto ten = parse_pem_chain(eleven.substr(0, eleven.size() / 11 * 10));
  ASSERT_TRUE(ten) << ten.error().message;
  EXPECT_EQ(ten->size(), 10u);
  PemLimits small;
  small.max_bytes = 100;
  expect_error(chain_pem_, "over the limit of 100", small);
}

TEST_F(BadPem, SeededRandomBytesAreErrors) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 300; ++i) {
    std::string junk(static_cast<size_t>(rng() % 4096), '\0');
    for (char& c : junk) c = static_cast<char>(rng() & 0xff);
    Result<std::vector<Certificate>> r = fail(ErrorKind::Invalid, "not run");
    ASSERT_NO_THROW(r = parse_pem_chain(junk));
    EXPECT_FALSE(r);
    Result<Certificate> d = fail(ErrorKind::Invalid, "not run");
    ASSERT_NO_THROW(d = Certificate::from_der(junk));
    EXPECT_FALSE(d);
    ASSERT_NO_THROW(r = parse_pem_chain(armour("CERTIFICATE", junk)));
    EXPECT_FALSE(r);
  }
}

TEST_F(BadPem, SeededMutationsOfAValidChainNeverCrash) {
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 500; ++i) {
    std::string mutated = chain_pem_;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k)
      mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xff);
    Result<std::vector<Certificate>> r = fail(ErrorKind::Invalid, "not run");
    ASSERT_NO_THROW(r = parse_pem_chain(mutated));
    if (r) {
      ++accepted;
      for (const auto& c : *r) EXPECT_EQ(c.info().sha1_thumbprint.size(), 40u);
    } else {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_LT(accepted, 500);
}

TEST(BadDer, EmptyAndTruncatedDerAreErrors) {
  TestCa root;
  std::string der = must(root.certificate().der());
  EXPECT_FALSE(Certificate::from_der(""));
  for (size_t n : {size_t{1}, size_t{10}, der.size() / 2, der.size() - 1}) {
    auto r = Certificate::from_der(std::string_view(der).substr(0, n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error().kind, ErrorKind::Crypto);
    EXPECT_NE(r.error().message.find("decoding a DER certificate"), std::string::npos);
  }
}

// Found by fuzz_certificate_der: a signature BIT STRING with non-zero padding bits is BER, not
// DER; OpenSSL accepted it and re-encoded it, so the thumbprints did not hash the bytes sent.
TEST(BadDer, NonCanonicalEncodingIsRefused) {
  TestCa root;  // EC P-256: the signature BIT STRING is the last element, short-form length
  std::string der = must(root.certificate().der());
  size_t bit_string = std::string::npos;
  for (size_t at = der.size() - 3; at > der.size() - 80; --at)  // 03 LEN 00 <ECDSA signature>
    if (der[at] == 0x03 && static_cast<unsigned char>(der[at + 1]) == der.size() - at - 2 && der[at + 2] == 0) {
      bit_string = at;
      break;
    }
  ASSERT_NE(bit_string, std::string::npos) << "no trailing signature BIT STRING found";
  der[bit_string + 2] = 0x01;  // one unused bit ...
  der.back() = static_cast<char>(der.back() | 0x01);  // ... which is set: valid BER, not DER
  auto r = Certificate::from_der(der);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Crypto);
  EXPECT_NE(r.error().message.find("not in canonical DER"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace certagent::protocol
