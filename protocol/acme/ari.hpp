#pragma once
// ACME Renewal Information (RFC 9773): the certificate identifier and the
// CA's suggested renewal window.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/acme/waiting.hpp"

namespace certagent::protocol {

// §4.1: base64url(AKI keyIdentifier) "." base64url(serial DER content octets,
// leading zero byte included). Invalid when either part is empty.
[[nodiscard]] Result<std::string> ari_cert_id(std::string_view authority_key_id, std::string_view serial_der);

struct RenewalInfo {
  ClockTime window_start;
  ClockTime window_end;
  std::string explanation_url;                      // sanitized; empty when absent
  std::optional<std::chrono::seconds> retry_after;  // when to ask again (§4.3)
};

// The renewalInfo object (§4.2); the window must have end after start.
[[nodiscard]] Result<RenewalInfo> parse_renewal_info(std::string_view body);
// GET <renewalInfo>/<certID>. Protocol error when the directory offers no ARI.
[[nodiscard]] Result<RenewalInfo> fetch_renewal_info(AcmeSession& session, std::string_view cert_id);

// A date-time a CA sent (common/rfc3339.hpp's grammar) as a ClockTime: Protocol error for text
// that is not one, or a date the nanosecond clock cannot hold (about 1678 to 2261).
[[nodiscard]] Result<ClockTime> parse_acme_time(std::string_view text);

}  // namespace certagent::protocol
