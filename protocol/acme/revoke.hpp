#pragma once
// Certificate revocation (RFC 8555 §7.6), signed by the account key.
#include "common/error.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::protocol {

// RFC 5280 §5.3.1 reason codes that ACME accepts.
enum class RevocationReason : int {
  Unspecified = 0,
  KeyCompromise = 1,
  AffiliationChanged = 3,
  Superseded = 4,
  CessationOfOperation = 5,
};

[[nodiscard]] Result<void> revoke_certificate(AcmeSession& session, const Certificate& certificate,
                                              RevocationReason reason);

}  // namespace certagent::protocol
