#pragma once
// A throwaway in-memory PKI for unit tests: a root CA, optional intermediates,
// and leaf certificates with chosen names, validity window and key.
// Test-only: failures throw std::runtime_error (GoogleTest reports them).
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/x509/keys.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::testing {

using namespace std::chrono_literals;

struct CertSpec {
  std::vector<std::string> dns_names;     // SAN dNSNames, in order
  std::vector<std::string> ip_addresses;  // SAN iPAddresses
  std::string common_name;                // empty: the first DNS name (if any)
  std::chrono::system_clock::time_point not_before = std::chrono::system_clock::now() - 1h;
  std::chrono::system_clock::time_point not_after = std::chrono::system_clock::now() + 24h * 90;
  std::string not_after_asn1;             // overrides not_after, e.g. "99991231235959Z"
  std::optional<unsigned long> serial;    // default: 16 random bytes
  bool is_ca = false;
};

class TestCa {
 public:
  // A self-signed root valid from a day ago for ten years.
  explicit TestCa(const std::string& name = "certagent test root",
                  protocol::KeyType type = protocol::KeyType::EcP256);

  // A CA certificate for a fresh key, signed by this CA.
  [[nodiscard]] TestCa intermediate(const std::string& name,
                                    protocol::KeyType type = protocol::KeyType::EcP256) const;
  // A certificate for `key`'s public half, signed by this CA.
  [[nodiscard]] protocol::Certificate issue(const protocol::PrivateKey& key, const CertSpec& spec) const;

  [[nodiscard]] const protocol::Certificate& certificate() const { return cert_; }
  [[nodiscard]] const protocol::PrivateKey& key() const { return key_; }
  [[nodiscard]] std::string pem() const;

 private:
  TestCa(protocol::PrivateKey key, protocol::Certificate cert) : key_(std::move(key)), cert_(std::move(cert)) {}
  protocol::PrivateKey key_;
  protocol::Certificate cert_;
};

// Unwraps a Result in test code, throwing with the error message.
template <class T>
T must(certagent::Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

// A generated key; throws on failure.
[[nodiscard]] protocol::PrivateKey new_key(protocol::KeyType type = protocol::KeyType::EcP256);

// The helpers above under their short names, for a test's own namespace:
// `using namespace certagent::testing::pki;`
namespace pki {
using certagent::testing::CertSpec;
using certagent::testing::must;
using certagent::testing::new_key;
using certagent::testing::TestCa;
}  // namespace pki

}  // namespace certagent::testing
