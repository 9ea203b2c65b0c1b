#include "agent/engine/renewal_decision.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "agent/engine/ari.hpp"
#include "agent/engine/records.hpp"
#include "agent/store/logging.hpp"
#include "policy/renewal.hpp"
#include "agent/store/schedule.hpp"

namespace certagent::agent {
namespace {

// The previous draw for the certificate with this thumbprint, from the schedule of the first
// stored version with that thumbprint whose certificate has one. `by_thumbprint` is built once
// per plan (a scan of every version per certificate made planning quadratic: issue 26).
// The versions sorted by thumbprint, those with equal ones in the inventory's order: 32 bytes a version
// (a hash map of vectors was 100, at the pass's peak at 10,000 certificates: issue 26).
std::vector<VersionOwner> by_thumbprint(std::vector<VersionOwner> versions) {
  std::stable_sort(versions.begin(), versions.end(),
                   [](const VersionOwner& a, const VersionOwner& b) { return a.thumbprint < b.thumbprint; });
  return versions;
}

std::optional<TimePoint> previous_selection(const std::vector<VersionOwner>& by_thumbprint, const std::string& thumbprint,
                                            ScheduleReads& schedules) {
  auto found = std::lower_bound(by_thumbprint.begin(), by_thumbprint.end(), thumbprint,
                                [](const VersionOwner& v, const std::string& t) { return v.thumbprint < t; });
  for (; found != by_thumbprint.end() && found->thumbprint == thumbprint; ++found) {
    if (!check_certificate_id(found->certificate_id)) continue;
    if (schedules.has_record(found->certificate_id)) return schedules.selected(found->certificate_id);
  }
  return std::nullopt;
}

// When the ARI window of the certificate with this thumbprint was fetched, as its record says.
std::optional<TimePoint> ari_fetched_at(const Store& store, const std::string& thumbprint) {
  auto record = read_ari_record(store, thumbprint);
  if (!record || !*record) return std::nullopt;
  return (*record)->fetched_at;
}

}  // namespace

Selections precompute_renewal(policy::Installed& installed, const Inventory& inventory, const policy::Renewal& renewal,
                              const Store& store, TimePoint now, Rng& rng,
                              const std::map<std::string, policy::AriWindow>& ari, ScheduleReads* schedules) {
  std::vector<VersionOwner> versions;
  versions.reserve(inventory.versions.size());
  for (const auto& v : inventory.versions) versions.push_back({v.meta.thumbprint, v.meta.certificate_id});
  return precompute_renewal(installed, std::move(versions), renewal, store, now, rng, ari, schedules);
}

Selections precompute_renewal(policy::Installed& installed, std::vector<VersionOwner> versions,
                              const policy::Renewal& renewal, const Store& store, TimePoint now, Rng& rng,
                              const std::map<std::string, policy::AriWindow>& ari, ScheduleReads* schedules) {
  Selections out;
  std::optional<ScheduleReads> own;  // without a pass's reads, this call's own
  if (schedules == nullptr) schedules = &own.emplace(store);
  const auto index = by_thumbprint(std::move(versions));
  for (auto& c : installed.certificates) {
    const auto window = ari.find(c.thumbprint);
    const policy::RenewalInput in{c.not_before, c.not_after,
                                  window == ari.end() ? std::nullopt : std::optional{window->second}, renewal,
                                  previous_selection(index, c.thumbprint, *schedules)};
    auto decision = policy::decide_renewal(in, now, rng);
    if (!decision) {
      module_logger("engine")->warn("certificate {}: {}", c.thumbprint, decision.error().message);
      continue;
    }
    c.renew_at = decision->renew_at;
    out[c.thumbprint] = RenewalChoice{decision->selected, decision->basis,
                                      window == ari.end() ? std::nullopt : ari_fetched_at(store, c.thumbprint)};
  }
  return out;
}

}  // namespace certagent::agent
