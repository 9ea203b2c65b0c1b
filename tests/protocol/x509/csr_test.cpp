#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "protocol/x509/csr.hpp"

namespace certagent::protocol {
namespace {

using Strings = std::vector<std::string>;

ossl::X509Req decode(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::X509Req req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(der.data()) + der.size());
  return req;
}

std::string common_name(X509_REQ* req) {
  X509_NAME* name = X509_REQ_get_subject_name(req);
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
}

// The SANs of a request as "DNS:x" / "IP:y", in order.
Strings sans(X509_REQ* req) {
  ossl::X509ExtStack exts(X509_REQ_get_extensions(req));
  Strings out;
  if (!exts) return out;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    ossl::GeneralNames gens(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    for (int j = 0; j < sk_GENERAL_NAME_num(gens.get()); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(gens.get(), j);
      if (gn->type == GEN_DNS) {
        out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                                           static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName))));
      } else if (gn->type == GEN_IPADD) {
        char text[INET6_ADDRSTRLEN] = {};
        int len = ASN1_STRING_length(gn->d.iPAddress);
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.iPAddress), text, sizeof text);
        out.push_back("IP:" + std::string(text));
      }
    }
  }
  return out;
}

class CsrKeys : public ::testing::TestWithParam<KeyType> {};

TEST_P(CsrKeys, SignsWithSha256AndCarriesEveryNameInOrder) {
  auto key = PrivateKey::generate(GetParam());
  ASSERT_TRUE(key) << key.error().message;
  Strings dns{"WWW.Example.com.", "example.com", "*.pool.example.com"};
  Strings ips{"192.0.2.7", "2001:DB8:0::1"};
  auto csr = make_csr(dns, *key, ips);
  ASSERT_TRUE(csr) << csr.error().message;
  auto req = decode(csr->der);
  ASSERT_TRUE(req);
  EXPECT_EQ(X509_REQ_verify(req.get(), X509_REQ_get0_pubkey(req.get())), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(req.get()), key->get()), 1);
  int expected_sig = GetParam() == KeyType::Rsa2048 ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256;
  EXPECT_EQ(X509_REQ_get_signature_nid(req.get()), expected_sig);
  EXPECT_EQ(common_name(req.get()), "www.example.com");
  EXPECT_EQ(sans(req.get()), (Strings{"DNS:www.example.com", "DNS:example.com", "DNS:*.pool.example.com",
                                      "IP:192.0.2.7", "IP:2001:db8::1"}));
  EXPECT_EQ(csr->names.dns_names, (Strings{"www.example.com", "example.com", "*.pool.example.com"}));
  EXPECT_EQ(csr->names.ip_addresses, (Strings{"192.0.2.7", "2001:db8::1"}));
}

INSTANTIATE_TEST_SUITE_P(All, CsrKeys, ::testing::Values(KeyType::EcP256, KeyType::EcP384, KeyType::Rsa2048),
                         [](const auto& info) {
                           std::string name(to_string(info.param));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Csr, PemIsTheSameRequestAsDer) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  ASSERT_TRUE(key);
  auto csr = make_csr(Strings{"sip.example.com"}, *key);
  ASSERT_TRUE(csr) << csr.error().message;
  EXPECT_TRUE(csr->pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
  auto bio = ossl::mem_bio(csr->pem);
  ossl::X509Req req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(req);
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  ASSERT_GT(len, 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)), csr->der);
  OPENSSL_free(der);
}

TEST(Csr, FirstNameLongerThanACommonNameGoesOnlyIntoTheSans) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  ASSERT_TRUE(key);
  std::string longname = std::string(60, 'a') + ".example.com";  // 72 octets > 64
  auto csr = make_csr(Strings{longname, "b.example.com"}, *key);
  ASSERT_TRUE(csr) << csr.error().message;
  auto req = decode(csr->der);
  EXPECT_EQ(common_name(req.get()), "");
  EXPECT_EQ(sans(req.get()), (Strings{"DNS:" + longname, "DNS:b.example.com"}));
}

TEST(Csr, IpAddressesOnlyHaveNoCommonName) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  ASSERT_TRUE(key);
  auto csr = make_csr(Strings{}, *key, Strings{"10.0.0.1"});
  ASSERT_TRUE(csr) << csr.error().message;
  auto req = decode(csr->der);
  EXPECT_EQ(common_name(req.get()), "");
  EXPECT_EQ(sans(req.get()), (Strings{"IP:10.0.0.1"}));
}

// The most names a policy template yields (policy::kMaxNamesPerTemplate): long-form
// lengths throughout; OpenSSL parses the request, verifies it and reads every name back.
TEST_P(CsrKeys, TheLargestRequestParsesVerifiesAndCarriesEveryName) {
  auto key = PrivateKey::generate(GetParam());
  ASSERT_TRUE(key) << key.error().message;
  Strings dns;
  Strings want;
  for (int i = 0; i < 1000; ++i) {
    dns.push_back("host" + std::to_string(i) + ".pool.example.com");
    want.push_back("DNS:" + dns.back());
  }
  auto csr = make_csr(dns, *key, Strings{"10.1.2.3"});
  ASSERT_TRUE(csr) << csr.error().message;
  want.push_back("IP:10.1.2.3");
  auto req = decode(csr->der);
  ASSERT_TRUE(req);
  EXPECT_EQ(X509_REQ_verify(req.get(), key->get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(req.get()), key->get()), 1);
  EXPECT_EQ(X509_REQ_get_version(req.get()), X509_REQ_VERSION_1);
  EXPECT_EQ(common_name(req.get()), "host0.pool.example.com");
  EXPECT_EQ(sans(req.get()), want);
}

// Another key cannot pass for the request's: the signature is over the request's own key.
TEST_P(CsrKeys, TheSignatureDoesNotVerifyWithAnotherKey) {
  auto key = PrivateKey::generate(GetParam());
  auto other = PrivateKey::generate(GetParam());
  ASSERT_TRUE(key && other);
  auto csr = make_csr(Strings{"a.example.com"}, *key);
  ASSERT_TRUE(csr) << csr.error().message;
  auto req = decode(csr->der);
  ASSERT_TRUE(req);
  EXPECT_EQ(X509_REQ_verify(req.get(), key->get()), 1);
  EXPECT_NE(X509_REQ_verify(req.get(), other->get()), 1);
  ERR_clear_error();
  std::string tampered = csr->der;
  tampered[tampered.find("a.example.com")] = 'b';  // the name inside the signed info
  auto bad = decode(tampered);
  ASSERT_TRUE(bad);
  EXPECT_NE(X509_REQ_verify(bad.get(), key->get()), 1);
  ERR_clear_error();
}

struct Refusal {
  Strings dns;
  Strings ips;
  std::string message_part;
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << "expecting '" << r.message_part << "'"; }

class CsrRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(CsrRefuses, WithAClearMessage) {
  static auto key = PrivateKey::generate(KeyType::EcP256);
  ASSERT_TRUE(key);
  auto csr = make_csr(GetParam().dns, *key, GetParam().ips);
  ASSERT_FALSE(csr);
  EXPECT_EQ(csr.error().kind, ErrorKind::Invalid);
  EXPECT_NE(csr.error().message.find(GetParam().message_part), std::string::npos) << csr.error().message;
  EXPECT_TRUE(csr.error().message.starts_with("building a CSR")) << csr.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    BadNames, CsrRefuses,
    ::testing::Values(
        Refusal{{}, {}, "no names"},
        Refusal{{"a.example.com", "A.EXAMPLE.COM."}, {}, "'A.EXAMPLE.COM.' is listed twice"},
        Refusal{{"ok.example.com", "bad_name.example.com"}, {}, "name #2"},
        Refusal{{"ok.example.com", "bad_name.example.com"}, {}, "'_'"},
        Refusal{{"b\xc3\xbc" "cher.example"}, {}, "xn--"},
        Refusal{{"a.*.example.com"}, {}, "wildcard"},
        Refusal{{std::string(64, 'a') + ".example.com"}, {}, "at most 63"},
        Refusal{{std::string(50, 'a') + "." + std::string(50, 'b') + "." + std::string(50, 'c') + "." +
                 std::string(50, 'd') + "." + std::string(50, 'e') + ".com"}, {}, "at most 253"},
        Refusal{{"-lead.example.com"}, {}, "hyphen"},
        Refusal{{""}, {}, "empty DNS name"},
        Refusal{{"a.example.com"}, {"300.1.1.1"}, "'300.1.1.1' is not an IPv4 or IPv6 address"},
        Refusal{{"a.example.com"}, {"a.example.com"}, "not an IPv4 or IPv6"},
        Refusal{{"a.example.com"}, {"2001:db8::1", "2001:DB8:0:0::1"}, "listed twice (as 2001:db8::1)"}));

TEST(CsrNames, NormalisesWithoutSigning) {
  auto names = normalize_csr_names(Strings{"Sip.Example.COM", "lyncdiscover.example.com."}, Strings{"::1"});
  ASSERT_TRUE(names) << names.error().message;
  EXPECT_EQ(names->dns_names, (Strings{"sip.example.com", "lyncdiscover.example.com"}));
  EXPECT_EQ(names->ip_addresses, (Strings{"::1"}));
}

}  // namespace
}  // namespace certagent::protocol
