#pragma once
// When each stored certificate renews, by the one rule (policy/renewal.hpp
// decide_renewal: the policy's `renewal`, otherwise 1/3 of the lifetime left
// with jitter, the CA's ARI window, near expiry at once), handed to policy::plan
// as InstalledCertificate::renew_at, which the plan uses as it is.
// The random draw is kept in the certificate's schedule file (`selected`) and
// reused while still valid, so a restart or an early wake-up does not re-roll it.
// The CA's ARI window, when it offers one, comes in `ari` (by thumbprint), fetched
// before planning (agent/engine/ari.hpp): the plan stays free of network I/O; when
// it was fetched is read from the certificate's ARI record.
#include <filesystem>
#include <map>
#include <string_view>
#include <vector>
#include <optional>
#include <string>

#include "policy/renewal.hpp"
#include "common/time.hpp"
#include "agent/store/store.hpp"
#include "policy/model.hpp"
#include "policy/plan.hpp"

namespace certagent::agent {

class ScheduleReads;  // agent/engine/records.hpp

// What the schedule keeps of a certificate's renewal decision.
struct RenewalChoice {
  std::optional<TimePoint> selected;        // the random point drawn (the schedule's `selected`)
  policy::RenewalBasis basis = policy::RenewalBasis::Lifetime;  // the rule that set renew_at (`renewal_basis`)
  std::optional<TimePoint> ari_fetched_at;  // when the ARI window it looked at was fetched, if any
};

// Thumbprint -> the decision for it, for every certificate a renewal time was decided for.
using Selections = std::map<std::string, RenewalChoice>;

// Sets renew_at of every certificate in `installed` (an input no schedule can
// come from is left to the plan's own rule, and logged).
// The previous draws come from `schedules` (a pass's reads: each record read once) when given.
[[nodiscard]] Selections precompute_renewal(policy::Installed& installed, const Inventory& inventory,
                                            const policy::Renewal& renewal,
                                            const Store& store, TimePoint now, Rng& rng,
                                            const std::map<std::string, policy::AriWindow>& ari = {},
                                            ScheduleReads* schedules = nullptr);

// A stored version as the renewal decisions read it: its certificate's thumbprint and the policy's
// id of that certificate (whose schedule record holds the previous draw). Views into the caller's.
struct VersionOwner {
  std::string_view thumbprint;
  std::string_view certificate_id;
};
// The same from the versions (in the inventory's order, oldest first) instead of a whole inventory:
// the engine's pass lets its inventory go first (issue 26: 384 bytes a version, at the pass's peak).
[[nodiscard]] Selections precompute_renewal(policy::Installed& installed, std::vector<VersionOwner> versions,
                                            const policy::Renewal& renewal, const Store& store, TimePoint now, Rng& rng,
                                            const std::map<std::string, policy::AriWindow>& ari = {},
                                            ScheduleReads* schedules = nullptr);

}  // namespace certagent::agent
