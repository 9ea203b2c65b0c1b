#pragma once
// What `certagent status` shows of ACME Renewal Information (RFC 9773): per bound certificate,
// the CA's suggested window as the engine stored it under <state>/ari/ (agent/engine/ari.hpp),
// when the CA sent it, when the agent asks next, and which rule set the renewal time in the
// certificate's schedule, as the engine recorded it when it decided.
// Reads only: the fetching is agent/engine/ari.hpp's, the files agent/store/ari_records.hpp's.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/ari_records.hpp"
#include "agent/store/schedule.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct StatusAriWindow {
  std::string thumbprint;               // the bound certificate the window is for
  TimePoint start{}, end{};             // the CA's suggestedWindow
  TimePoint next_check{};               // when the agent asks the CA again (its Retry-After)
  TimePoint fetched_at{};                // when the CA sent this window
};

// Where the schedule's renewal time comes from, as the schedule records it.
enum class RenewalBasisSeen {
  Unknown,      // no renewal time recorded yet (not issued, or no schedule)
  Ari,          // the CA's window: renewal.hpp rule 2
  Lifetime,     // the lifetime rule
  RenewBefore,  // the policy's renewal setting
  NearExpiry,   // less than 1/20 of the lifetime left
  Expired,      // the certificate had expired
};

// "unknown", "ari", "lifetime", "renew-before", "near-expiry", "expired"
[[nodiscard]] const char* to_string(RenewalBasisSeen b);

// The basis the schedule records; nothing when it records none (a record written outside a
// renewal decision, e.g. before the first issuance) or has no renewal time.
[[nodiscard]] std::optional<RenewalBasisSeen> recorded_renewal_basis(const std::optional<ScheduleRecord>& schedule);

// The stored window for the certificate with this thumbprint; nothing when there is none.
// A record the engine did not write is an error (the caller lists it as a problem).
[[nodiscard]] Result<std::optional<StatusAriWindow>> read_status_ari(const Store& store, std::string_view thumbprint);

}  // namespace certagent::agent
