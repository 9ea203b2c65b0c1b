#pragma once
// `certagent status`: what the state directory says about each certificate — its purposes and
// what is bound to them, the next renewal, the CA's renewal information (ARI) and the back-off —
// gathered without the writer lock
// (every change in the store is an atomic rename) and rendered for a person or as JSON.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/store/pool_view.hpp"
#include "agent/store/schedule.hpp"
#include "agent/cli/status_ari.hpp"
#include "agent/store/store.hpp"

namespace certagent::agent {

struct StatusPurpose {
  std::string purpose;
  std::string version_id;              // empty: unbound
  bool complete = false;               // the bound version is whole
  std::optional<CertificateMeta> meta;  // of the bound version, when complete
};

struct StatusCertificate {
  std::string id;                        // the policy's certificate id ("" for a version without one)
  std::vector<StatusPurpose> purposes;   // bound purposes first, then the schedule's unbound ones
  std::optional<ScheduleRecord> schedule;
  std::vector<StatusAriWindow> ari;      // the CA's window per bound certificate that has one
  RenewalBasisSeen renewal_basis = RenewalBasisSeen::Unknown;
};

struct StatusReport {
  std::vector<StatusCertificate> certificates;  // sorted by id
  std::vector<Problem> problems;                // from the store, the schedule and the ari directories
  std::optional<CaDirectoryNote> ca_ari;        // whether the CA offers ARI, as last looked at
  std::optional<PoolView> pool;                 // a pool member: its pool as the last pass saw it in etcd
};

[[nodiscard]] Result<StatusReport> gather_status(const std::filesystem::path& state_dir);
[[nodiscard]] std::string render_status_text(const StatusReport& report, TimePoint now);
[[nodiscard]] std::string render_status_json(const StatusReport& report, TimePoint now);

}  // namespace certagent::agent
