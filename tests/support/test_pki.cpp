#include "support/test_pki.hpp"

#include <stdexcept>

#include <openssl/rand.h>

namespace certagent::testing {
namespace {

using protocol::Certificate;
using protocol::PrivateKey;

[[noreturn]] void die(const std::string& what) { throw std::runtime_error(ossl::crypto_error(what).message); }

void check(bool ok, const std::string& what) {
  if (!ok) die("test PKI: " + what);
}

void set_serial(X509* x, const std::optional<unsigned long>& serial) {
  ossl::Bignum bn(BN_new());
  check(bn != nullptr, "BN_new");
  if (serial) check(BN_set_word(bn.get(), *serial) == 1, "serial");
  else check(BN_rand(bn.get(), 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1, "random serial");
  check(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) != nullptr, "setting the serial");
}

void set_validity(X509* x, const CertSpec& spec) {
  using std::chrono::system_clock;
  check(ASN1_TIME_set(X509_getm_notBefore(x), system_clock::to_time_t(spec.not_before)) != nullptr, "notBefore");
  if (spec.not_after_asn1.empty())
    check(ASN1_TIME_set(X509_getm_notAfter(x), system_clock::to_time_t(spec.not_after)) != nullptr, "notAfter");
  else
    check(ASN1_TIME_set_string_X509(X509_getm_notAfter(x), spec.not_after_asn1.c_str()) == 1, "notAfter text");
}

void add_ext(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  ossl::X509Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext != nullptr && X509_add_ext(x, ext.get(), -1) == 1, "extension " + value);
}

void add_extensions(X509* x, X509* issuer, const CertSpec& spec) {
  add_ext(x, issuer, NID_subject_key_identifier, "hash");
  if (issuer != x) add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
  if (spec.is_ca) {
    add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    return;
  }
  add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
  add_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
  std::string san;
  for (const auto& d : spec.dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : spec.ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  if (!san.empty()) add_ext(x, issuer, NID_subject_alt_name, san);
}

// Builds and signs; issuer_cert == nullptr means self-signed.
Certificate build(const PrivateKey& subject_key, const CertSpec& spec, X509* issuer_cert, const PrivateKey& issuer_key) {
  ossl::X509Ptr x(X509_new());
  check(x != nullptr && X509_set_version(x.get(), X509_VERSION_3) == 1, "X509_new");
  set_serial(x.get(), spec.serial);
  set_validity(x.get(), spec);
  std::string cn = spec.common_name.empty() && !spec.dns_names.empty() ? spec.dns_names.front() : spec.common_name;
  X509_NAME* subject = X509_get_subject_name(x.get());
  if (!cn.empty())
    check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()),
                                     -1, -1, 0) == 1, "subject CN");
  X509* issuer = issuer_cert != nullptr ? issuer_cert : x.get();
  check(X509_set_issuer_name(x.get(), X509_get_subject_name(issuer)) == 1, "issuer name");
  check(X509_set_pubkey(x.get(), subject_key.get()) == 1, "public key");
  add_extensions(x.get(), issuer, spec);
  check(X509_sign(x.get(), issuer_key.get(), EVP_sha256()) > 0, "signing");
  return must(Certificate::from_x509(std::move(x)));
}

CertSpec ca_spec(const std::string& name) {
  CertSpec spec;
  spec.common_name = name;
  spec.is_ca = true;
  spec.not_before = std::chrono::system_clock::now() - 24h;
  spec.not_after = std::chrono::system_clock::now() + 24h * 3650;
  return spec;
}

}  // namespace

PrivateKey new_key(protocol::KeyType type) { return must(PrivateKey::generate(type)); }

TestCa::TestCa(const std::string& name, protocol::KeyType type)
    : key_(new_key(type)), cert_(build(key_, ca_spec(name), nullptr, key_)) {}

TestCa TestCa::intermediate(const std::string& name, protocol::KeyType type) const {
  PrivateKey key = new_key(type);
  Certificate cert = build(key, ca_spec(name), cert_.get(), key_);
  return TestCa(std::move(key), std::move(cert));
}

Certificate TestCa::issue(const PrivateKey& key, const CertSpec& spec) const {
  return build(key, spec, cert_.get(), key_);
}

std::string TestCa::pem() const { return must(cert_.pem()); }

}  // namespace certagent::testing
