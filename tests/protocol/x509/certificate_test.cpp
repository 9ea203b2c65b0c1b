#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "protocol/x509/csr.hpp"
#include "protocol/x509/certificate.hpp"
#include "support/test_pki.hpp"
#include "support/cli_runner.hpp"

namespace certagent::protocol {
namespace {

using namespace certagent::testing::pki;
using std::chrono::system_clock;
using Strings = std::vector<std::string>;
using namespace std::chrono_literals;

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
  auto path = std::filesystem::temp_directory_path() / ("certagent-x509-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// Runs `openssl x509 <args> -noout -in <pem file>` and returns its stdout.
std::string openssl_x509(const std::string& pem, const std::string& args) {
  auto file = temp_file("cli.pem", pem);
  std::string cmd = "openssl x509 -noout " + args + " -in '" + file.string() + "'";
  auto r = certagent::testing::run_shell(cmd, false);
  EXPECT_EQ(r.code, 0) << cmd;
  std::string out = std::move(r.out);
  std::filesystem::remove(file);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// "SHA1 Fingerprint=AB:CD:..." -> "ABCD..."
std::string cli_fingerprint(const std::string& line) {
  std::string hex = line.substr(line.find('=') + 1);
  std::erase(hex, ':');
  return hex;
}

system_clock::time_point whole_seconds(system_clock::time_point t) {
  return std::chrono::time_point_cast<std::chrono::seconds>(t);
}

class X509Facts : public ::testing::Test {
 protected:
  TestCa root_{"certagent test root"};
  PrivateKey key_ = new_key();
};

TEST_F(X509Facts, ReadsNamesDatesSerialAndKeyIdentifiers) {
  CertSpec spec;
  spec.dns_names = {"www.example.com", "lyncdiscover.example.com", "*.example.net"};
  spec.ip_addresses = {"192.0.2.1", "2001:db8::5"};
  spec.not_before = system_clock::now() - 48h;
  spec.not_after = system_clock::now() + 24h * 30;
  spec.serial = 0x1234ABCDul;
  auto cert = root_.issue(key_, spec);
  const auto& info = cert.info();
  EXPECT_EQ(info.subject, "CN=www.example.com");
  EXPECT_EQ(info.issuer, "CN=certagent test root");
  EXPECT_EQ(info.dns_names, spec.dns_names);
  EXPECT_EQ(info.ip_addresses, spec.ip_addresses);
  EXPECT_EQ(info.not_before, whole_seconds(spec.not_before));
  EXPECT_EQ(info.not_after, whole_seconds(spec.not_after));
  EXPECT_EQ(info.serial_hex, "1234ABCD");
  EXPECT_EQ(info.serial_der, std::string("\x12\x34\xAB\xCD", 4));
  EXPECT_FALSE(info.is_ca);
  EXPECT_TRUE(root_.certificate().info().is_ca);
  ASSERT_FALSE(root_.certificate().info().subject_key_id.empty());
  EXPECT_EQ(info.authority_key_id, root_.certificate().info().subject_key_id);
  EXPECT_TRUE(root_.certificate().info().authority_key_id.empty());  // self-signed, no AKI added
}

TEST_F(X509Facts, SerialWithTheHighBitSetKeepsItsDerZeroOctet) {
  CertSpec spec;
  spec.dns_names = {"a.example.com"};
  spec.serial = 0x80ul;
  auto cert = root_.issue(key_, spec);
  EXPECT_EQ(cert.info().serial_hex, "80");
  EXPECT_EQ(cert.info().serial_der, std::string("\x00\x80", 2));
}

TEST_F(X509Facts, FingerprintsSerialAndSubjectMatchTheOpensslCli) {
  CertSpec spec;
  spec.dns_names = {"sip.example.com"};
  auto cert = root_.issue(key_, spec);
  auto pem = must(cert.pem());
  EXPECT_EQ(cert.info().sha1_thumbprint, cli_fingerprint(openssl_x509(pem, "-fingerprint -sha1")));
  EXPECT_EQ(cert.info().sha256_fingerprint, cli_fingerprint(openssl_x509(pem, "-fingerprint -sha256")));
  EXPECT_EQ(cert.info().sha1_thumbprint.size(), 40u);
  EXPECT_EQ(cert.info().sha1_thumbprint.find_first_not_of("0123456789ABCDEF"), std::string::npos);
  EXPECT_EQ("serial=" + cert.info().serial_hex, openssl_x509(pem, "-serial"));
  EXPECT_EQ("subject=" + cert.info().subject, openssl_x509(pem, "-subject -nameopt RFC2253"));
  EXPECT_EQ("issuer=" + cert.info().issuer, openssl_x509(pem, "-issuer -nameopt RFC2253"));
}

TEST_F(X509Facts, ChainRoundTripsThroughPemAndDer) {
  TestCa inter = root_.intermediate("certagent test intermediate");
  CertSpec spec;
  spec.dns_names = {"a.example.com"};
  std::vector<Certificate> chain;
  chain.push_back(inter.issue(key_, spec));
  chain.push_back(must(inter.certificate().clone()));
  auto pem = must(to_pem_chain(chain));
  auto parsed = parse_pem_chain(pem);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*parsed)[i].info().sha256_fingerprint, chain[i].info().sha256_fingerprint);
    EXPECT_EQ(must((*parsed)[i].der()), must(chain[i].der()));
  }
  auto again = Certificate::from_der(must(chain[0].der()));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->info().sha1_thumbprint, chain[0].info().sha1_thumbprint);
  EXPECT_EQ((*parsed)[0].info().authority_key_id, inter.certificate().info().subject_key_id);
  EXPECT_EQ((*parsed)[1].info().authority_key_id, root_.certificate().info().subject_key_id);
}

TEST_F(X509Facts, NoExpiryDateIsClampedNotOverflowed) {
  CertSpec spec;
  spec.dns_names = {"forever.example.com"};
  spec.not_after_asn1 = "99991231235959Z";
  auto cert = root_.issue(key_, spec);
  EXPECT_GT(cert.info().not_after, system_clock::now() + 24h * 365 * 200);
  EXPECT_GT(cert.info().not_after, cert.info().not_before);
}

TEST(X509Names, Rfc2253EscapesSpecialsAndKeepsUtf8Readable) {
  TestCa root{"Z\xc3\xbcrich, \"Test\" CA"};
  EXPECT_EQ(root.certificate().info().subject, "CN=Z\xc3\xbcrich\\, \\\"Test\\\" CA");
  EXPECT_EQ(root.certificate().info().issuer, root.certificate().info().subject);
}

TEST_F(X509Facts, CertificateWithoutSansHasEmptyLists) {
  CertSpec spec;
  spec.common_name = "no-sans";
  auto cert = root_.issue(key_, spec);
  EXPECT_TRUE(cert.info().dns_names.empty());
  EXPECT_TRUE(cert.info().ip_addresses.empty());
  EXPECT_EQ(cert.info().subject, "CN=no-sans");
}

TEST_F(X509Facts, IssuesForACsrKeyAndMatchesIt) {
  auto csr = make_csr(Strings{"a.example.com"}, key_);
  ASSERT_TRUE(csr);
  CertSpec spec;
  spec.dns_names = csr->names.dns_names;
  auto cert = root_.issue(key_, spec);
  EXPECT_TRUE(check_key_matches(cert, key_));
}

TEST_F(X509Facts, MismatchedKeyIsAClearError) {
  CertSpec spec;
  spec.dns_names = {"a.example.com"};
  auto cert = root_.issue(key_, spec);
  for (KeyType other : {KeyType::EcP256, KeyType::Rsa2048}) {
    auto wrong = check_key_matches(cert, new_key(other));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().kind, ErrorKind::Invalid);
    EXPECT_NE(wrong.error().message.find("does not belong to certificate 'CN=a.example.com'"), std::string::npos)
        << wrong.error().message;
    EXPECT_NE(wrong.error().message.find(cert.info().sha1_thumbprint), std::string::npos);
  }
}

TEST(TimeText, PrintsUtc) {
  using namespace std::chrono;
  EXPECT_EQ(to_utc_string(sys_days(year{2025} / 3 / 4) + 5h + 6min + 7s), "2025-03-04T05:06:07Z");
}

TEST(Hex, UpperCaseNoSeparators) { EXPECT_EQ(hex_upper(std::string("\x00\xab\x10\xff", 4)), "00AB10FF"); }

}  // namespace
}  // namespace certagent::protocol
