#pragma once
// What `certagent status` shows of ACME Renewal Information (RFC 9773): per bound certificate,
// the CA's suggested window as the engine stored it under <state>/ari/ (agent/engine/ari.hpp),
// when the CA sent it, when the agent asks next, and which rule set the renewal time in the
// certificate's schedule — as the schedule records it (version 2), or, for a schedule that does
// not record it (written by an older certagent), inferred from the windows as before.
// Reads only: the fetching and the file formats are engine_ari's and schedule_store's.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/engine/ari.hpp"
#include "agent/store/schedule.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct StatusAriWindow {
  std::string thumbprint;               // the bound certificate the window is for
  TimePoint start{}, end{};             // the CA's suggestedWindow
  TimePoint next_check{};               // when the agent asks the CA again (its Retry-After)
  // When the CA sent this window: the record's fetched_at; for a record written before that was
  // kept, the file's mtime (which a failed re-check also moves).
  std::optional<TimePoint> fetched_at;
};

// Where the schedule's renewal time comes from. Inferred, only Unknown, Ari and Lifetime are
// told apart (Lifetime then also covers the policy's renewal setting and the near-expiry cap).
enum class RenewalBasisSeen {
  Unknown,      // no renewal time recorded yet (not issued, or no schedule)
  Ari,          // inside the CA's window: renewal.hpp rule 2 drew it there
  Lifetime,     // the lifetime rule
  RenewBefore,  // the policy's renewal setting (recorded only)
  NearExpiry,   // less than 1/20 of the lifetime left (recorded only)
  Expired,      // the certificate had expired (recorded only)
};

// "unknown", "ari", "lifetime", "renew-before", "near-expiry", "expired"
[[nodiscard]] const char* to_string(RenewalBasisSeen b);

// The basis the schedule records; nothing when it records none (a version-1 file, or a
// record written outside a renewal decision) or has no renewal time.
[[nodiscard]] std::optional<RenewalBasisSeen> recorded_renewal_basis(const std::optional<ScheduleRecord>& schedule);

// The stored window for the certificate with this thumbprint; nothing when there is none.
// A record the engine did not write is an error (the caller lists it as a problem).
[[nodiscard]] Result<std::optional<StatusAriWindow>> read_status_ari(const std::filesystem::path& state_dir,
                                                                     std::string_view thumbprint);

// The inference for a schedule that records no basis:
// Ari when the CA offers renewal information (`note`) and the schedule's renew_at falls inside
// one of the bound certificates' windows — the ARI rule always draws inside the window, the
// others do not look at it; otherwise Lifetime; Unknown without a renew_at.
[[nodiscard]] RenewalBasisSeen renewal_basis_seen(const std::optional<CaDirectoryNote>& note,
                                                  const std::vector<StatusAriWindow>& windows,
                                                  const std::optional<ScheduleRecord>& schedule);

}  // namespace certagent::agent
