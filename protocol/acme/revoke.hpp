#pragma once
// Certificate revocation (RFC 8555 §7.6), signed by the account key or by the certificate's own key.
#include "common/error.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/x509/certificate.hpp"
#include "protocol/x509/keys.hpp"

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
// The same signed by the certificate's private key (a `jwk` header, no account): what a CA
// accepts from whoever holds the key, e.g. when the account that ordered it is gone.
[[nodiscard]] Result<void> revoke_certificate_with_key(AcmeSession& session, const Certificate& certificate,
                                                       RevocationReason reason, const PrivateKey& certificate_key);

}  // namespace certagent::protocol
