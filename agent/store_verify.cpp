#include "agent/store_verify.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cctype>
#include <ctime>

#include <fmt/format.h>

#include "protocol/keys.hpp"
#include "protocol/ossl.hpp"

namespace certagent::agent {
namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kDash = "-----";

bool only_space(std::string_view s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string hex_upper(const unsigned char* p, std::size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) out += fmt::format("{:02X}", p[i]);
  return out;
}

std::string digest_hex(const EVP_MD* md, std::string_view bytes) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), buf, &len, md, nullptr) != 1) return {};
  return hex_upper(buf, len);
}

Result<ossl::X509Ptr> parse_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) return std::unexpected(ossl::crypto_error("parsing a certificate"));
  return x;
}

Result<std::chrono::sys_seconds> to_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return std::unexpected(ossl::crypto_error("reading a certificate's validity"));
  return std::chrono::sys_seconds(std::chrono::seconds(::timegm(&tm)));
}

// One PEM block starting at `begin`: its label, DER, and where it ends.
Result<std::pair<std::string, std::size_t>> one_block(std::string_view pem, std::size_t begin) {
  auto label_end = pem.find(kDash, begin + kBegin.size());
  if (label_end == std::string_view::npos) return fail(ErrorKind::Invalid, "a PEM header is not terminated");
  std::string label(pem.substr(begin + kBegin.size(), label_end - begin - kBegin.size()));
  if (label != "CERTIFICATE")
    return fail(ErrorKind::Invalid, fmt::format("a PEM block of type \"{}\" where only certificates belong",
                                                label.size() > 40 ? label.substr(0, 40) + "..." : label));
  std::string end_marker = "-----END CERTIFICATE-----";
  auto end = pem.find(end_marker, label_end);
  if (end == std::string_view::npos) return fail(ErrorKind::Invalid, "a CERTIFICATE block has no END line");
  end += end_marker.size();
  auto bio = ossl::mem_bio(pem.substr(begin, end - begin));
  ossl::X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x) return std::unexpected(ossl::crypto_error("decoding a CERTIFICATE block"));
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  if (len <= 0) return std::unexpected(ossl::crypto_error("encoding a certificate"));
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return std::pair{std::move(out), end};
}

}  // namespace

std::string sha256_hex(std::string_view bytes) { return digest_hex(EVP_sha256(), bytes); }

Result<std::vector<std::string>> certificate_blocks(std::string_view pem) {
  std::vector<std::string> ders;
  std::size_t pos = 0;
  for (;;) {
    auto begin = pem.find(kBegin, pos);
    if (!only_space(pem.substr(pos, begin == std::string_view::npos ? std::string_view::npos : begin - pos)))
      return fail(ErrorKind::Invalid, "text other than PEM certificate blocks");
    if (begin == std::string_view::npos) break;
    auto block = one_block(pem, begin);
    if (!block) return std::unexpected(block.error());
    ders.push_back(std::move(block->first));
    pos = block->second;
  }
  return ders;
}

Result<LeafFacts> inspect_leaf(std::string_view leaf_pem) {
  auto ders = certificate_blocks(leaf_pem);
  if (!ders) return std::unexpected(ders.error().context("reading the certificate"));
  if (ders->size() != 1)
    return fail(ErrorKind::Invalid, fmt::format("the certificate PEM holds {} certificates; expected 1", ders->size()));
  const std::string& der = ders->front();
  auto x = parse_der(der);
  if (!x) return std::unexpected(x.error());
  LeafFacts f;
  f.thumbprint = digest_hex(EVP_sha1(), der);
  f.sha256 = digest_hex(EVP_sha256(), der);
  ossl::Bignum bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x->get()), nullptr));
  if (!bn) return std::unexpected(ossl::crypto_error("reading the serial number"));
  ossl::OsslString hex(BN_bn2hex(bn.get()));
  if (!hex) return std::unexpected(ossl::crypto_error("formatting the serial number"));
  f.serial = hex.get();
  auto nb = to_time(X509_get0_notBefore(x->get()));
  auto na = to_time(X509_get0_notAfter(x->get()));
  if (!nb) return std::unexpected(nb.error());
  if (!na) return std::unexpected(na.error());
  f.not_before = *nb;
  f.not_after = *na;
  return f;
}

Result<void> check_key_matches(std::string_view key_pem, std::string_view leaf_pem) {
  auto key = protocol::PrivateKey::from_pem(key_pem);
  if (!key) return std::unexpected(key.error().context("reading the private key"));
  auto ders = certificate_blocks(leaf_pem);
  if (!ders || ders->size() != 1) return fail(ErrorKind::Invalid, "the certificate PEM does not hold one certificate");
  auto x = parse_der(ders->front());
  if (!x) return std::unexpected(x.error());
  if (X509_check_private_key(x->get(), key->get()) != 1) {
    (void)ossl::drain_errors();
    return fail(ErrorKind::Crypto, "the private key does not belong to the certificate");
  }
  return ok();
}

}  // namespace certagent::agent
