#include "agent/store/verify.hpp"

#include <openssl/evp.h>

#include <cctype>

#include <fmt/format.h>

#include "protocol/x509/keys.hpp"

namespace certagent::agent {
namespace {

bool blank(std::string_view s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // Fetched once: an implicit fetch per call (EVP_sha256()) costs more than hashing a few KiB.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (sha256 == nullptr || EVP_Digest(bytes.data(), bytes.size(), buf, &len, sha256, nullptr) != 1) return {};
  return protocol::hex_upper(std::string_view(reinterpret_cast<const char*>(buf), len));
}

Result<protocol::Certificate> parse_leaf(std::string_view leaf_pem) {
  auto certs = protocol::parse_pem_chain(leaf_pem);
  if (!certs) return std::unexpected(certs.error().context("reading the certificate"));
  if (certs->size() != 1)
    return fail(ErrorKind::Invalid, fmt::format("the certificate PEM holds {} certificates; expected 1", certs->size()));
  return std::move(certs->front());
}

Result<std::vector<protocol::Certificate>> parse_chain(std::string_view chain_pem) {
  if (blank(chain_pem)) return std::vector<protocol::Certificate>{};
  auto certs = protocol::parse_pem_chain(chain_pem);
  if (!certs) return std::unexpected(certs.error().context("reading the chain"));
  return certs;
}

Result<void> check_key_matches(std::string_view key_pem, std::string_view leaf_pem) {
  auto key = protocol::PrivateKey::from_pem(key_pem);
  if (!key) return std::unexpected(key.error().context("reading the private key"));
  auto leaf = parse_leaf(leaf_pem);
  if (!leaf) return std::unexpected(leaf.error());
  if (auto r = protocol::check_key_matches(*leaf, *key); !r)
    return fail(ErrorKind::Crypto, "the private key does not belong to the certificate (" + r.error().message + ")");
  return ok();
}

void fill_from_certificate(CertificateMeta& meta, const protocol::CertificateInfo& info) {
  using std::chrono::floor;
  using std::chrono::seconds;
  meta.names = info.dns_names;
  meta.subject = info.subject;
  meta.issuer = info.issuer;
  meta.not_before = floor<seconds>(info.not_before);
  meta.not_after = floor<seconds>(info.not_after);
  meta.thumbprint = info.sha1_thumbprint;
  meta.sha256 = info.sha256_fingerprint;
  meta.serial = info.serial_hex;
}

}  // namespace certagent::agent
