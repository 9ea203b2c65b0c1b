#pragma once
// ACME Renewal Information (RFC 9773) in the engine. The plan stays free of network I/O: at
// the start of a pass the engine asks the CA for the suggested renewal window of every bound
// certificate whose last answer is due for a re-check (its Retry-After, clamped to
// [1 minute, 1 day]; 6 hours without one), and keeps the answers in the state directory;
// planning reads them (agent/engine/renewal_decision.hpp, agent/store/renewal.hpp rule 2).
//
// (the records: agent/store/ari_records.hpp)
//
// Whether the CA offers ARI at all is learned from its directory — by every order
// (note_ca_directory) and otherwise at most once a day — so a pass with nothing to do makes
// no request to a CA without renewalInfo (pebble 2.4). Times: seconds since 1970, UTC.
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "agent/store/ari_records.hpp"
#include "policy/renewal.hpp"
#include "agent/store/shared.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"
#include "policy/model.hpp"
#include "protocol/acme/ari.hpp"

namespace certagent::agent {

inline constexpr Seconds kCaDirectoryRecheck{24 * 3600};
inline constexpr Seconds kAriRetryAfterFailure{3600};  // a failed re-check of a known window

// The certID of a stored version's leaf (<version>/cert.pem): AKI keyIdentifier and serial.
[[nodiscard]] Result<std::string> ari_cert_id_of(const StoredVersion& version);

// The CA as the refresh sees it; production: agent/engine/acme.hpp's connection, tests: fakes.
struct AriSource {
  std::function<Result<std::string>()> renewal_info_url;  // reads the directory: renewalInfo, "" if none
  std::function<Result<protocol::RenewalInfo>(std::string_view cert_id)> fetch;
};

// Refreshes the records of the certificates bound in `inventory` that are due for a re-check
// (asking the directory first when the last look at it is older than a day or was at another
// CA). A failure is logged and leaves the previous record, or none: that certificate renews by
// the lifetime rule until an answer comes.
void refresh_renewal_info(SharedStore& store, const Inventory& inventory,
                          const std::string& directory_url, const AriSource& source, TimePoint now);

// refresh_renewal_info against the policy's CA, through one connection opened when first
// needed (TLS verified as for orders); `cancel` cuts its waits short.
void refresh_renewal_info_from_ca(SharedStore& store, const Inventory& inventory,
                                  const policy::CaConfig& ca, TimePoint now, const std::atomic<bool>* cancel);

// Thumbprint -> the CA's window (retry_after: the time left to its re-check) for every bound
// certificate with a record, and the earliest re-check among them still ahead.
struct AriWindows {
  std::map<std::string, policy::AriWindow> windows;
  std::optional<TimePoint> earliest_recheck;
};
[[nodiscard]] AriWindows ari_windows(const Store& store, const Inventory& inventory,
                                     const std::string& directory_url, TimePoint now);

}  // namespace certagent::agent
