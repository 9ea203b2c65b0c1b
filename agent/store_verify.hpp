#pragma once
// The checks the store makes before it keeps or binds a certificate version:
// PEM text holds only certificates, the key belongs to the certificate, and
// the fingerprints recorded in meta.json are those of cert.pem.
// (The general X.509 helpers live in protocol/x509.hpp; these are the few
// facts the store itself relies on.)
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace certagent::agent {

struct LeafFacts {
  std::string thumbprint;  // SHA-1, 40 upper-case hex
  std::string sha256;      // 64 upper-case hex
  std::string serial;      // upper-case hex
  std::chrono::sys_seconds not_before{};
  std::chrono::sys_seconds not_after{};
};

// Splits PEM text into its blocks, requiring every block to be a
// "CERTIFICATE" that parses and nothing but whitespace around the blocks.
// Returns the DER of each certificate.
[[nodiscard]] Result<std::vector<std::string>> certificate_blocks(std::string_view pem);

// `leaf_pem` must hold exactly one certificate.
[[nodiscard]] Result<LeafFacts> inspect_leaf(std::string_view leaf_pem);

// The private key in `key_pem` is the one whose public half `leaf_pem` certifies.
[[nodiscard]] Result<void> check_key_matches(std::string_view key_pem, std::string_view leaf_pem);

// Upper-case hex SHA-256 of `bytes`.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

}  // namespace certagent::agent
