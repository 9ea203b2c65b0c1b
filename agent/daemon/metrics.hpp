#pragma once
// Prometheus text exposition (format 0.0.4) of what the daemon knows — pure: the state is
// folded from PassSummaries by record_pass() and rendered by render_metrics(); the HTTP side
// is agent/daemon/metrics_server.hpp. Per purpose (labels purpose, certificate[, thumbprint]):
//   certagent_certificate_expiry_timestamp_seconds   notAfter of the bound certificate
//   certagent_purpose_bound                          1 bound, 0 unbound
//   certagent_next_renewal_timestamp_seconds         next renewal or retry
//   certagent_consecutive_failures
//   certagent_last_success_timestamp_seconds
// plus certagent_issuance_total{certificate,action,result}, the histogram
// certagent_issuance_duration_seconds, certagent_passes_total{reason},
// certagent_last_pass_timestamp_seconds and certagent_policy_valid. A pool member (docs/pool.md),
// per pool-wide certificate as the last pass saw it in etcd (labels pool, certificate, ...):
//   certagent_pool_version_info{thumbprint,ordered_by}  1: the pool's version
//   certagent_pool_leader{member}                       1: the member ordering it now
//   certagent_pool_member_bound{member,thumbprint}      1 when the member's bound thumbprint is
//                                                       the pool's version, else 0
// and certagent_pool_seen_timestamp_seconds{pool}.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "agent/engine/pass_types.hpp"
#include "agent/store/pool_view.hpp"

namespace certagent::agent {

// Upper bounds (seconds) of the issuance duration histogram; +Inf is implied.
inline constexpr std::array<double, 9> kIssuanceBuckets = {1, 2, 5, 10, 30, 60, 120, 300, 600};

struct MetricsState {
  std::vector<CertificateStatus> certificates;  // as of the last pass
  bool policy_valid = true;
  std::optional<std::chrono::sys_seconds> last_pass;
  std::map<std::string, std::uint64_t> passes;  // by WakeReason name
  // (certificate, action, "success" | "failure") -> count
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> issuances;
  std::array<std::uint64_t, kIssuanceBuckets.size()> duration_buckets{};  // non-cumulative
  std::uint64_t duration_count = 0;
  double duration_sum = 0;  // seconds
  std::optional<PoolView> pool;  // a pool member: <state>/pool.json after the last pass
};

// Folds one pass (started at `started`) into the state.
void record_pass(MetricsState& state, WakeReason reason, std::chrono::sys_seconds started,
                 const PassSummary& summary);

[[nodiscard]] std::string render_metrics(const MetricsState& state);

// A label value as the text format wants it: \ -> \\, " -> \", newline -> \n.
[[nodiscard]] std::string escape_label_value(std::string_view value);

}  // namespace certagent::agent
