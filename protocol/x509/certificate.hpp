#pragma once
// X.509 certificates: strict PEM chain parsing, the facts certagent needs from
// each certificate, key matching and chain verification at a given time.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/x509/keys.hpp"
#include "protocol/x509/ossl.hpp"

namespace certagent::protocol {

// What certagent reads from one certificate. Byte strings are raw bytes.
struct CertificateInfo {
  std::string subject;  // one line, RFC 2253 order and escaping (UTF-8 kept as is)
  std::string issuer;   // same form
  std::vector<std::string> dns_names;     // every dNSName SAN, in certificate order
  std::vector<std::string> ip_addresses;  // every iPAddress SAN, as inet_ntop text
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::string serial_hex;          // upper-case hex, no separators ("-" prefix if negative)
  std::string serial_der;          // the serial INTEGER's DER content octets (ARI certID, RFC 9773)
  std::string sha1_thumbprint;     // 40 upper-case hex digits, as Windows/Get-CsCertificate show it
  std::string sha256_fingerprint;  // 64 upper-case hex digits
  std::string authority_key_id;    // AKI keyIdentifier octets; empty when absent (ARI certID)
  std::string subject_key_id;      // SKI octets; empty when absent
  bool is_ca = false;              // basicConstraints cA
};

// One parsed certificate: owns the OpenSSL object and carries its facts.
class Certificate {
 public:
  [[nodiscard]] static Result<Certificate> from_der(std::string_view der);
  // Takes ownership of `x509` and reads its facts.
  [[nodiscard]] static Result<Certificate> from_x509(ossl::X509Ptr x509);

  [[nodiscard]] const CertificateInfo& info() const { return info_; }
  [[nodiscard]] X509* get() const { return x509_.get(); }
  [[nodiscard]] Result<std::string> der() const;
  [[nodiscard]] Result<std::string> pem() const;
  // Another owner of the same OpenSSL object (reference-counted).
  [[nodiscard]] Result<Certificate> clone() const;

 private:
  Certificate(ossl::X509Ptr x509, CertificateInfo info) : x509_(std::move(x509)), info_(std::move(info)) {}
  ossl::X509Ptr x509_;
  CertificateInfo info_;
};

// Certificates parsed before, by their exact DER bytes. A CA sends the same
// intermediates with every chain, and decoding a certificate costs more than
// checking it (OpenSSL 3 decodes its public key through the provider
// decoders): the same bytes give the same certificate, so they are parsed
// once. Holds at most kMaxEntries (the oldest goes first). Not thread-safe:
// one per session.
class CertificateMemo {
 public:
  static constexpr size_t kMaxEntries = 8;
  // Another owner of the certificate parsed from `der` (parsed now if new).
  [[nodiscard]] Result<Certificate> from_der(std::string_view der);
  [[nodiscard]] size_t parsed() const { return parsed_; }  // how many were parsed, not found

 private:
  std::vector<std::pair<std::string, Certificate>> entries_;
  size_t parsed_ = 0;
};

// Limits on PEM input; a CA's chain is a handful of certificates.
struct PemLimits {
  size_t max_certificates = 10;
  size_t max_bytes = 1u << 20;
  // RFC 8555 §9.1 chains allow no text outside the blocks; trust bundles
  // (e.g. curl's cacert.pem) carry comments between them.
  bool allow_text_between_blocks = false;
};
inline constexpr PemLimits kTrustBundleLimits{1000, 8u << 20, true};

// Parses a PEM certificate chain (leaf first, as ACME delivers it). Only
// CERTIFICATE blocks are accepted; another block type (e.g. PRIVATE KEY), text
// outside the blocks, a truncated block, trailing bytes inside a block's DER,
// no certificate at all, or more than the limits allow are errors.
[[nodiscard]] Result<std::vector<Certificate>> parse_pem_chain(std::string_view pem, const PemLimits& limits = {});
// The same, with every certificate after the first (the intermediates) taken
// from `intermediates` when it parsed the same bytes before.
[[nodiscard]] Result<std::vector<Certificate>> parse_pem_chain(std::string_view pem, CertificateMemo& intermediates);

// A trust bundle: PEM text or a PEM file (kTrustBundleLimits).
[[nodiscard]] Result<std::vector<Certificate>> parse_trust_bundle(std::string_view pem);
[[nodiscard]] Result<std::vector<Certificate>> load_trust_bundle(const std::filesystem::path& file);

// The PEM text of the certificates, concatenated in order.
[[nodiscard]] Result<std::string> to_pem_chain(std::span<const Certificate> chain);

// Ok when `key` is the private half of the certificate's public key; an
// Invalid error naming the certificate when it is not.
[[nodiscard]] Result<void> check_key_matches(const Certificate& cert, const PrivateKey& key);

// Verifies chain[0] (the leaf) up to one of `trust`, using chain[1..] as
// intermediates, as of `at` (notBefore/notAfter are checked against `at`, not
// the wall clock). The error names OpenSSL's verify reason, depth and subject.
[[nodiscard]] Result<void> verify_chain(std::span<const Certificate> chain, std::span<const Certificate> trust,
                                        std::chrono::system_clock::time_point at);

// Upper-case hex of raw bytes, no separators.
[[nodiscard]] std::string hex_upper(std::string_view bytes);
// "2025-01-02T03:04:05Z" (UTC, whole seconds).
[[nodiscard]] std::string to_utc_string(std::chrono::system_clock::time_point t);

}  // namespace certagent::protocol
