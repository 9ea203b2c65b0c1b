#pragma once
// What the store records about one certificate version (its meta.json), and
// the text forms it uses: RFC 3339 times (common/rfc3339.hpp) and Windows-style thumbprints.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "common/rfc3339.hpp"

namespace certagent::agent {

struct CertificateMeta {
  std::string certificate_id;      // the policy's id for this certificate ("front-end")
  std::vector<std::string> names;  // every DNS SAN, in certificate order
  std::string subject;             // one-line RFC 4514 form
  std::string issuer;
  std::chrono::sys_seconds not_before{};
  std::chrono::sys_seconds not_after{};
  std::string thumbprint;  // SHA-1 of the DER certificate, 40 upper-case hex (as Windows prints it)
  std::string sha256;      // SHA-256 of the DER certificate, 64 upper-case hex
  std::string serial;      // upper-case hex
  std::string key_type;    // protocol::to_string(KeyType): "ec-p256", "rsa-2048", ...
  std::string order_url;   // the ACME order it came from (RFC 8555 §7.1.3); empty if imported
  std::string profile;     // the ACME profile that order asked for; "" none (meta.json omits it)
  std::chrono::sys_seconds stored_at{};

  friend bool operator==(const CertificateMeta&, const CertificateMeta&) = default;
};

// meta.json: {"format":1, ...}. Unknown keys are ignored; missing or
// mistyped known keys are errors naming the key.
[[nodiscard]] boost::json::value to_json(const CertificateMeta& m);
[[nodiscard]] Result<CertificateMeta> meta_from_json(std::string_view text);


// A thumbprint as a person may paste it — "3a 5f …", "3A:5F:…", with the
// invisible U+200E that Windows' certificate dialog copies along — as 40
// (SHA-1) or 64 (SHA-256) upper-case hex digits. Anything else is an error.
[[nodiscard]] Result<std::string> normalize_thumbprint(std::string_view s);

}  // namespace certagent::agent
