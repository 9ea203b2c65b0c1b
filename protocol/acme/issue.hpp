#pragma once
// One certificate, end to end (RFC 8555 §7.4): newOrder → authorize (all
// challenges at once) → finalize with a CSR for exactly the order's names →
// download (preferred chain) → verify. The certificate key is generated in
// the background while the CA validates. Needs a session with an account.
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/authorize.hpp"
#include "protocol/acme/certificate.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/acme/challenge.hpp"
#include "protocol/x509/keys.hpp"

namespace certagent::protocol {

struct IssueRequest {
  std::vector<std::string> names;                     // DNS names; the first becomes the CSR's CN
  KeyType key_type = KeyType::EcP256;                 // for a new certificate key
  std::shared_ptr<const PrivateKey> certificate_key;  // reuse this key instead (null: generate)
  std::string replaces;                               // ARI certID of the certificate being renewed
  std::string profile;                                // a profile the directory offers, or ""
  std::string preferred_chain;                        // issuer CN of the preferred chain's top certificate
  AuthorizeOptions authorize;                         // validation polling (total time bounded)
  PollPolicy issuance;                                // processing-order polling
};

struct IssuedCertificate {
  std::shared_ptr<const PrivateKey> key;
  CertificateChain chain;      // verified
  std::string order_url;
  std::string certificate_pem;  // the leaf
  std::string chain_pem;        // the intermediates
  std::string fullchain_pem;    // leaf + intermediates
};

// The issued certificate's PEM forms (leaf, chain, full chain) from a verified chain.
[[nodiscard]] Result<IssuedCertificate> assemble_issued_certificate(std::shared_ptr<const PrivateKey> key,
                                                                   CertificateChain chain, std::string order_url);

[[nodiscard]] Result<IssuedCertificate> issue_certificate(AcmeSession& session, const IssueRequest& request,
                                                          ChallengeSolver& solver);

}  // namespace certagent::protocol
