#pragma once
// PKCS#10 certificate signing requests (RFC 2986) for ACME finalize (RFC 8555 §7.4).
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/x509/keys.hpp"

namespace certagent::protocol {

// The identifiers of one request, normalised: DNS names lower-cased without a
// trailing dot (order kept), IP addresses in canonical text form (inet_ntop).
struct CsrNames {
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
};

struct Csr {
  std::string der;  // the DER bytes (base64url them for ACME finalize)
  std::string pem;  // "-----BEGIN CERTIFICATE REQUEST-----" ...
  CsrNames names;   // what went into it, normalised
};

// Validates and normalises the names of a request. Refuses: no identifier at
// all, a DNS name that common/dns_name.hpp refuses, duplicates (after
// lower-casing / canonicalising), an IP address that is not IPv4 or IPv6.
[[nodiscard]] Result<CsrNames> normalize_csr_names(std::span<const std::string> dns_names,
                                                   std::span<const std::string> ip_addresses = {});

// Builds and signs (SHA-256; RSA PKCS#1 v1.5 or ECDSA) a PKCS#10 request: the
// first DNS name as subject CN (left out when it is longer than the 64 octets a
// CN may hold, or when there are only IP addresses), every name as a SAN
// (DNS names first, in order, then IP addresses).
[[nodiscard]] Result<Csr> make_csr(std::span<const std::string> dns_names, const PrivateKey& key,
                                   std::span<const std::string> ip_addresses = {});

}  // namespace certagent::protocol
