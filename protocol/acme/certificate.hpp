#pragma once
// Downloading the issued certificate (RFC 8555 §7.4.2): the chain in
// application/pem-certificate-chain, the alternates from Link rel="alternate",
// the choice of a preferred chain by the issuer name of its top certificate,
// and the checks before anything is handed back: the leaf's key is ours, its
// names are the order's, its validity is sane, the chain links up.
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/order.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/x509/keys.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::protocol {

inline constexpr size_t kMaxAlternateChains = 8;

struct CertificateChain {
  std::string url;
  std::vector<Certificate> certificates;  // leaf first, then the intermediates
  std::vector<std::string> alternates;    // other chains offered (URLs), empty for an alternate itself
};

// POST-as-GET of a certificate URL; only CERTIFICATE blocks are accepted.
[[nodiscard]] Result<CertificateChain> download_chain(AcmeSession& session, std::string_view url);

// The common name of the issuer of the chain's last certificate ("" when none).
[[nodiscard]] std::string top_issuer_cn(const CertificateChain& chain);

// The chain whose top certificate's issuer CN is `preferred_issuer_cn`,
// fetching alternates only while the default does not match; the default
// chain when none matches or nothing is preferred.
[[nodiscard]] Result<CertificateChain> download_preferred_chain(AcmeSession& session, std::string_view url,
                                                                const std::string& preferred_issuer_cn);

// Refuses a chain whose leaf is not for `key`, whose DNS SANs differ from
// `names` (any order, case-insensitive), that carries other SAN types, that is
// not valid at `now`, or whose certificates do not each issue the one before.
[[nodiscard]] Result<void> verify_issued(const CertificateChain& chain, const PrivateKey& key,
                                         const std::vector<std::string>& names, ClockTime now);

}  // namespace certagent::protocol
