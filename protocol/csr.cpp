#include "protocol/csr.hpp"

#include <arpa/inet.h>

#include <set>

#include <openssl/pem.h>

#include "common/dns_name.hpp"

namespace certagent::protocol {
namespace {

using GeneralName = ossl::Ptr<GENERAL_NAME, GENERAL_NAME_free>;
using Asn1String = ossl::Ptr<ASN1_STRING, ASN1_STRING_free>;

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

// One SAN entry: GEN_DNS with an IA5String or GEN_IPADD with the address octets.
Result<void> push_general_name(GENERAL_NAMES* names, int type, const std::string& value) {
  Asn1String str(type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new());
  GeneralName gn(GENERAL_NAME_new());
  if (!str || !gn || ASN1_STRING_set(str.get(), value.data(), static_cast<int>(value.size())) != 1)
    return std::unexpected(ossl::crypto_error("building a subjectAltName entry"));
  GENERAL_NAME_set0_value(gn.get(), type, str.release());
  if (sk_GENERAL_NAME_push(names, gn.get()) <= 0)
    return std::unexpected(ossl::crypto_error("adding a subjectAltName entry"));
  (void)gn.release();  // the stack owns it now
  return ok();
}

Result<void> add_san_extension(X509_REQ* req, const CsrNames& names) {
  ossl::GeneralNames gens(sk_GENERAL_NAME_new_null());
  if (!gens) return std::unexpected(ossl::crypto_error("allocating the subjectAltName list"));
  for (const auto& dns : names.dns_names)
    if (auto r = push_general_name(gens.get(), GEN_DNS, dns); !r) return r;
  for (const auto& ip : names.ip_addresses) {
    auto bytes = ip_bytes(ip);
    if (!bytes) return std::unexpected(bytes.error());
    if (auto r = push_general_name(gens.get(), GEN_IPADD, *bytes); !r) return r;
  }
  ossl::X509Ext ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, gens.get()));
  ossl::X509ExtStack exts(sk_X509_EXTENSION_new_null());
  if (!ext || !exts) return std::unexpected(ossl::crypto_error("encoding the subjectAltName extension"));
  if (sk_X509_EXTENSION_push(exts.get(), ext.get()) <= 0)
    return std::unexpected(ossl::crypto_error("collecting the CSR extensions"));
  (void)ext.release();
  if (X509_REQ_add_extensions(req, exts.get()) != 1)
    return std::unexpected(ossl::crypto_error("adding the extension request to the CSR"));
  return ok();
}

Result<void> set_subject(X509_REQ* req, const CsrNames& names) {
  if (names.dns_names.empty() || names.dns_names.front().size() > kMaxCommonName) return ok();
  const std::string& cn = names.dns_names.front();
  X509_NAME* subject = X509_REQ_get_subject_name(req);  // owned by req
  if (subject == nullptr ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.data()),
                                 static_cast<int>(cn.size()), -1, 0) != 1)
    return std::unexpected(ossl::crypto_error("setting the CSR subject CN to " + cn));
  return ok();
}

Result<Csr> encode(X509_REQ* req, CsrNames names) {
  Csr csr;
  int len = i2d_X509_REQ(req, nullptr);
  if (len <= 0) return std::unexpected(ossl::crypto_error("encoding the CSR as DER"));
  csr.der.resize(static_cast<size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(csr.der.data());
  if (i2d_X509_REQ(req, &p) != len) return std::unexpected(ossl::crypto_error("encoding the CSR as DER"));
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req) != 1)
    return std::unexpected(ossl::crypto_error("encoding the CSR as PEM"));
  csr.pem = ossl::bio_to_string(bio.get());
  csr.names = std::move(names);
  return csr;
}

Result<Csr> build_and_sign(CsrNames names, const PrivateKey& key) {
  ossl::X509Req req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1)
    return std::unexpected(ossl::crypto_error("creating a CSR"));
  if (auto r = set_subject(req.get(), names); !r) return std::unexpected(r.error());
  if (auto r = add_san_extension(req.get(), names); !r) return std::unexpected(r.error());
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1)
    return std::unexpected(ossl::crypto_error("putting the public key into the CSR"));
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0)
    return std::unexpected(ossl::crypto_error("signing the CSR with the " + std::string(to_string(key.type())) + " key"));
  return encode(req.get(), std::move(names));
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
