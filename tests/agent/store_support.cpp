#include "store_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "protocol/x509/keys.hpp"
#include "protocol/x509/ossl.hpp"

namespace certagent::agent::testing {
namespace fs = std::filesystem;
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what);
}

ossl::X509Ptr new_cert(EVP_PKEY* subject_key, const std::string& cn, long serial, std::chrono::seconds nb_offset,
                       std::chrono::seconds lifetime) {
  ossl::X509Ptr x(X509_new());
  check(x && X509_set_version(x.get(), 2) == 1, "version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) == 1, "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(x.get()), nb_offset.count()) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(x.get()), (nb_offset + lifetime).count()) != nullptr, "notAfter");
  X509_NAME* name = X509_get_subject_name(x.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                   0) == 1,
        "CN");
  check(X509_set_pubkey(x.get(), subject_key) == 1, "pubkey");
  return x;
}

void add_ext(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  ossl::X509Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext && X509_add_ext(x, ext.get(), -1) == 1, "extension");
}

std::string to_pem(X509* x) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), x) == 1, "PEM");
  return ossl::bio_to_string(bio.get());
}

}  // namespace

TestCert make_cert(const std::vector<std::string>& names, std::chrono::seconds nb_offset, std::chrono::seconds lifetime) {
  static long serial = 1000;
  auto ca_key = protocol::PrivateKey::generate(protocol::KeyType::EcP256);
  auto leaf_key = protocol::PrivateKey::generate(protocol::KeyType::EcP256);
  check(ca_key && leaf_key, "keys");
  auto ca = new_cert(ca_key->get(), "certagent test CA", ++serial, std::chrono::hours(-1), std::chrono::hours(24 * 400));
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  check(X509_sign(ca.get(), ca_key->get(), EVP_sha256()) > 0, "sign CA");
  auto leaf = new_cert(leaf_key->get(), names.empty() ? "leaf" : names.front(), ++serial, nb_offset, lifetime);
  X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get()));
  std::string san;
  for (const auto& n : names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
  if (!san.empty()) add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san);
  check(X509_sign(leaf.get(), ca_key->get(), EVP_sha256()) > 0, "sign leaf");
  auto key_pem = leaf_key->to_pem();
  check(key_pem.has_value(), "key PEM");
  return {*key_pem, to_pem(leaf.get()), to_pem(ca.get())};
}

int run_in_child(const std::function<void()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

Store open_writable(const fs::path& dir) {
  auto s = Store::open(dir, {.write = true});
  EXPECT_TRUE(s) << s.error().message;
  if (!s) throw std::runtime_error("opening the test store " + dir.string() + ": " + s.error().message);
  return std::move(*s);
}

}  // namespace certagent::agent::testing
