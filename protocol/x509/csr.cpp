#include "protocol/x509/csr.hpp"

#include <arpa/inet.h>

#include <set>

#include <openssl/evp.h>

#include "common/dns_name.hpp"
#include "protocol/x509/base64.hpp"
#include "protocol/x509/der.hpp"

namespace certagent::protocol {
namespace {

constexpr size_t kMaxCommonName = 64;  // ub-common-name, RFC 5280 Appendix A

// The address bytes of an IPv4/IPv6 literal, or an error naming it.
Result<std::string> ip_bytes(const std::string& text) {
  unsigned char buf[16] = {};
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 16);
  return fail(ErrorKind::Invalid, "'" + text + "' is not an IPv4 or IPv6 address");
}

std::string ip_text(const std::string& bytes) {
  char out[INET6_ADDRSTRLEN] = {};
  int family = bytes.size() == 4 ? AF_INET : AF_INET6;
  if (inet_ntop(family, bytes.data(), out, sizeof out) == nullptr) return {};
  return out;
}

Result<std::vector<std::string>> normalize_ips(std::span<const std::string> ips) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& ip : ips) {
    auto bytes = ip_bytes(ip);
    if (!bytes) return std::unexpected(bytes.error());
    std::string text = ip_text(*bytes);
    if (text.empty()) return fail(ErrorKind::Invalid, "cannot print IP address '" + ip + "'");
    if (!seen.insert(text).second)
      return fail(ErrorKind::Invalid, "IP address '" + ip + "' is listed twice (as " + text + ")");
    out.push_back(std::move(text));
  }
  return out;
}

// OID content octets (X.690 §8.19).
constexpr std::string_view kCommonName{"\x55\x04\x03", 3};                                    // 2.5.4.3
constexpr std::string_view kSubjectAltName{"\x55\x1d\x11", 3};                                // 2.5.29.17
constexpr std::string_view kExtensionRequest{"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x0e", 9};  // 1.2.840.113549.1.9.14
constexpr std::string_view kEcdsaWithSha256{"\x2a\x86\x48\xce\x3d\x04\x03\x02", 8};        // 1.2.840.10045.4.3.2
constexpr std::string_view kSha256WithRsa{"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b", 9};     // 1.2.840.113549.1.1.11
constexpr unsigned char kDnsNameTag = 0x82;    // [2] IMPLICIT IA5String
constexpr unsigned char kIpAddressTag = 0x87;  // [7] IMPLICIT OCTET STRING
constexpr unsigned char kAttributesTag = 0xa0;  // [0] IMPLICIT SET OF Attribute

// Name ::= SEQUENCE OF RDN: CN=<first DNS name> (UTF8String), or empty.
std::string subject(const CsrNames& names) {
  if (names.dns_names.empty() || names.dns_names.front().size() > kMaxCommonName) return der::tlv(der::kSequence, "");
  const std::string attribute = der::tlv(der::kOid, kCommonName) + der::tlv(der::kUtf8String, names.dns_names.front());
  return der::tlv(der::kSequence, der::tlv(der::kSet, der::tlv(der::kSequence, attribute)));
}

// [0] { extensionRequest (PKCS#9) { Extensions { subjectAltName (not critical) } } }
Result<std::string> attributes(const CsrNames& names) {
  std::string general_names;
  for (const auto& dns : names.dns_names) general_names += der::tlv(kDnsNameTag, dns);
  for (const auto& ip : names.ip_addresses) {
    auto bytes = ip_bytes(ip);
    if (!bytes) return std::unexpected(bytes.error());
    general_names += der::tlv(kIpAddressTag, *bytes);
  }
  const std::string san = der::tlv(der::kSequence, der::tlv(der::kOid, kSubjectAltName) +
                                                       der::tlv(der::kOctetString, der::tlv(der::kSequence, general_names)));
  const std::string extensions = der::tlv(der::kSequence, san);
  return der::tlv(kAttributesTag,
                  der::tlv(der::kSequence, der::tlv(der::kOid, kExtensionRequest) + der::tlv(der::kSet, extensions)));
}

std::string signature_algorithm(KeyType type) {
  if (type == KeyType::EcP256 || type == KeyType::EcP384) return der::tlv(der::kSequence, der::tlv(der::kOid, kEcdsaWithSha256));
  return der::tlv(der::kSequence, der::tlv(der::kOid, kSha256WithRsa) + der::tlv(der::kNull, ""));
}

// SHA-256 with the key: a DER ECDSA-Sig-Value, or the PKCS#1 v1.5 signature.
Result<std::string> sign(const PrivateKey& key, std::string_view tbs) {
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  const auto* in = reinterpret_cast<const unsigned char*>(tbs.data());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, tbs.size()) != 1)
    return std::unexpected(ossl::crypto_error("preparing the CSR signature"));
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, tbs.size()) != 1)
    return std::unexpected(ossl::crypto_error("signing the CSR with the " + std::string(to_string(key.type())) + " key"));
  sig.resize(len);
  return sig;
}

std::string pem_of(std::string_view der) {
  const std::string b64 = base64_encode(der);
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem.append(b64, i, 64).push_back('\n');
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

// CertificationRequest (RFC 2986 §4): version 0, subject, SubjectPublicKeyInfo,
// the extension request; signed over the DER of that info.
Result<Csr> build_and_sign(CsrNames names, const PrivateKey& key) {
  auto spki = der::subject_public_key_info(key);
  if (!spki) return std::unexpected(spki.error());
  auto attrs = attributes(names);
  if (!attrs) return std::unexpected(attrs.error());
  const std::string info = der::tlv(der::kSequence, der::unsigned_integer("") + subject(names) + *spki + *attrs);
  auto sig = sign(key, info);
  if (!sig) return std::unexpected(sig.error());
  Csr csr;
  csr.der = der::tlv(der::kSequence, info + signature_algorithm(key.type()) + der::bit_string(*sig));
  csr.pem = pem_of(csr.der);
  csr.names = std::move(names);
  return csr;
}

}  // namespace

Result<CsrNames> normalize_csr_names(std::span<const std::string> dns_names,
                                     std::span<const std::string> ip_addresses) {
  if (dns_names.empty() && ip_addresses.empty())
    return fail(ErrorKind::Invalid, "no names: a certificate request needs at least one DNS name or IP address");
  CsrNames out;
  std::set<std::string> seen;
  for (size_t i = 0; i < dns_names.size(); ++i) {
    auto name = normalize_dns_name(dns_names[i]);
    if (!name) return std::unexpected(std::move(name.error()).context("name #" + std::to_string(i + 1)));
    if (!seen.insert(*name).second)
      return fail(ErrorKind::Invalid, "DNS name '" + dns_names[i] + "' is listed twice (names are compared in lower case)");
    out.dns_names.push_back(std::move(*name));
  }
  auto ips = normalize_ips(ip_addresses);
  if (!ips) return std::unexpected(ips.error());
  out.ip_addresses = std::move(*ips);
  return out;
}

Result<Csr> make_csr(std::span<const std::string> dns_names, const PrivateKey& key,
                     std::span<const std::string> ip_addresses) {
  auto names = normalize_csr_names(dns_names, ip_addresses);
  if (!names) return std::unexpected(std::move(names.error()).context("building a CSR"));
  std::string first = names->dns_names.empty() ? names->ip_addresses.front() : names->dns_names.front();
  auto csr = build_and_sign(std::move(*names), key);
  if (!csr) {
    return std::unexpected(std::move(csr.error()).context("building a CSR for " + first));
  }
  return csr;
}

}  // namespace certagent::protocol
