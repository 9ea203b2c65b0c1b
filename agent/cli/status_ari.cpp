#include "agent/cli/status_ari.hpp"


namespace certagent::agent {

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
    case policy::RenewalBasis::Expired: return RenewalBasisSeen::Expired;
    case policy::RenewalBasis::NearExpiry: return RenewalBasisSeen::NearExpiry;
    case policy::RenewalBasis::AriWindow: return RenewalBasisSeen::Ari;
    case policy::RenewalBasis::RenewBefore: return RenewalBasisSeen::RenewBefore;
    case policy::RenewalBasis::Lifetime: return RenewalBasisSeen::Lifetime;
  }
  return std::nullopt;
}

Result<std::optional<StatusAriWindow>> read_status_ari(const Store& store, std::string_view thumbprint) {
  auto record = read_ari_record(store, thumbprint);
  if (!record) return std::unexpected(record.error());
  if (!*record) return std::nullopt;
  return StatusAriWindow{std::string(thumbprint), (*record)->start, (*record)->end, (*record)->recheck_at,
                         (*record)->fetched_at};
}

}  // namespace certagent::agent
