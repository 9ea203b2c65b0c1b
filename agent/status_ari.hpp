#pragma once
// What `certagent status` shows of ACME Renewal Information (RFC 9773): per bound certificate,
// the CA's suggested window as the engine stored it under <state>/ari/ (agent/engine_ari.hpp),
// when the agent last asked the CA for it, when it asks next, and whether the renewal time in
// the certificate's schedule comes from that window or from the lifetime rule. Reads only: the
// fetching and the file format are engine_ari's.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/engine_ari.hpp"
#include "agent/schedule_store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct StatusAriWindow {
  std::string thumbprint;               // the bound certificate the window is for
  TimePoint start{}, end{};             // the CA's suggestedWindow
  TimePoint next_check{};               // when the agent asks the CA again (its Retry-After)
  std::optional<TimePoint> fetched_at;  // when the agent last asked the CA (the record's mtime)
};

// Where the schedule's renewal time comes from.
enum class RenewalBasisSeen {
  Unknown,   // no renewal time recorded yet (not issued, or no schedule)
  Ari,       // inside the CA's window: renewal.hpp rule 2 drew it there
  Lifetime,  // the lifetime rule (or the policy's renew_before, or the near-expiry cap)
};

[[nodiscard]] const char* to_string(RenewalBasisSeen b);  // "unknown", "ari", "lifetime"

// The stored window for the certificate with this thumbprint; nothing when there is none.
// A record the engine did not write is an error (the caller lists it as a problem).
[[nodiscard]] Result<std::optional<StatusAriWindow>> read_status_ari(const std::filesystem::path& state_dir,
                                                                     std::string_view thumbprint);

// Ari when the CA offers renewal information (`note`) and the schedule's renew_at falls inside
// one of the bound certificates' windows — the ARI rule always draws inside the window, the
// others do not look at it; otherwise Lifetime; Unknown without a renew_at.
[[nodiscard]] RenewalBasisSeen renewal_basis_seen(const std::optional<CaDirectoryNote>& note,
                                                  const std::vector<StatusAriWindow>& windows,
                                                  const std::optional<ScheduleRecord>& schedule);

}  // namespace certagent::agent
