#pragma once
// PKCS#12 bundles (RFC 7292) for consumers that import one file (Windows-style
// certificate stores, Java keystores): the private key, the leaf and its
// issuer chain, protected with modern algorithms only — keys and certificates
// encrypted with PBES2 (PBKDF2 with HMAC-SHA-256, AES-256-CBC) and the
// integrity MAC over SHA-256. No RC2, no 3DES, no SHA-1 MAC.
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/x509/keys.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::protocol {

struct Pkcs12Input {
  const PrivateKey* key = nullptr;  // must match `leaf`
  const Certificate* leaf = nullptr;
  std::vector<const Certificate*> chain;  // issuers, leaf's issuer first; may be empty
  std::string friendly_name;              // shown by importers; may be empty
  int iterations = 10000;                 // PBKDF2 and MAC iterations
};

// The DER bytes of the bundle, protected with `password` (may be empty: an
// empty password still encrypts, importers then ask for nothing). The
// password is never put into an error message.
[[nodiscard]] Result<std::string> make_pkcs12(const Pkcs12Input& input, std::string_view password);

struct Pkcs12Contents {
  ossl::PKey key;
  Certificate leaf;
  std::vector<Certificate> chain;
  int mac_digest_nid = 0;  // NID of the MAC's digest (NID_sha256 for ours)
};

// Parses and MAC-verifies a bundle (used to check what was written).
[[nodiscard]] Result<Pkcs12Contents> read_pkcs12(std::string_view der, std::string_view password);

}  // namespace certagent::protocol
