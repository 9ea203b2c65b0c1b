#include "agent/cli/status_ari.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>

namespace certagent::agent {

namespace fs = std::filesystem;

namespace {

// The file's modification time as a wall-clock time, when it can be read.
std::optional<TimePoint> modified_at(const fs::path& file) {
  std::error_code ec;
  const auto t = fs::last_write_time(file, ec);
  if (ec) return std::nullopt;
  return std::chrono::floor<Seconds>(std::chrono::file_clock::to_sys(t));
}

}  // namespace

const char* to_string(RenewalBasisSeen b) {
  switch (b) {
    case RenewalBasisSeen::Unknown: return "unknown";
    case RenewalBasisSeen::Ari: return "ari";
    case RenewalBasisSeen::Lifetime: return "lifetime";
    case RenewalBasisSeen::RenewBefore: return "renew-before";
    case RenewalBasisSeen::NearExpiry: return "near-expiry";
    case RenewalBasisSeen::Expired: return "expired";
  }
  return "unknown";
}

std::optional<RenewalBasisSeen> recorded_renewal_basis(const std::optional<ScheduleRecord>& schedule) {
  if (!schedule || !schedule->renew_at || !schedule->basis) return std::nullopt;
  switch (*schedule->basis) {
    case RenewalBasis::Expired: return RenewalBasisSeen::Expired;
    case RenewalBasis::NearExpiry: return RenewalBasisSeen::NearExpiry;
    case RenewalBasis::AriWindow: return RenewalBasisSeen::Ari;
    case RenewalBasis::RenewBefore: return RenewalBasisSeen::RenewBefore;
    case RenewalBasis::Lifetime: return RenewalBasisSeen::Lifetime;
  }
  return std::nullopt;
}

Result<std::optional<StatusAriWindow>> read_status_ari(const fs::path& state_dir, std::string_view thumbprint) {
  auto record = read_ari_record(state_dir, thumbprint);
  if (!record) return std::unexpected(record.error());
  if (!*record) return std::nullopt;
  const fs::path file = state_dir / "ari" / (std::string(thumbprint) + ".json");  // agent/engine/ari.hpp's layout
  return StatusAriWindow{std::string(thumbprint), (*record)->start, (*record)->end, (*record)->recheck_at,
                         (*record)->fetched_at ? (*record)->fetched_at : modified_at(file)};
}

RenewalBasisSeen renewal_basis_seen(const std::optional<CaDirectoryNote>& note,
                                    const std::vector<StatusAriWindow>& windows,
                                    const std::optional<ScheduleRecord>& schedule) {
  if (!schedule || !schedule->renew_at) return RenewalBasisSeen::Unknown;
  if (!note || note->renewal_info.empty()) return RenewalBasisSeen::Lifetime;
  const TimePoint at = *schedule->renew_at;
  const bool inside = std::any_of(windows.begin(), windows.end(),
                                  [&](const StatusAriWindow& w) { return w.start <= at && at <= w.end; });
  return inside ? RenewalBasisSeen::Ari : RenewalBasisSeen::Lifetime;
}

}  // namespace certagent::agent
