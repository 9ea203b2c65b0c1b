#include "agent/daemon/metrics.hpp"

#include <fmt/format.h>

namespace certagent::agent {

namespace {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

std::string label_set(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += fmt::format("{}=\"{}\"", name, escape_label_value(value));
  }
  return out + "}";
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, const Labels& labels, std::string_view value) {
  out += fmt::format("{}{} {}\n", name, label_set(labels), value);
}

std::string seconds_value(std::chrono::sys_seconds t) { return std::to_string(t.time_since_epoch().count()); }

// One gauge with a sample per purpose of every certificate; `value` returns nothing to skip one.
template <class ValueFn>
void per_purpose(std::string& out, const MetricsState& state, std::string_view name, std::string_view help,
                 bool with_thumbprint, ValueFn value) {
  header(out, name, "gauge", help);
  for (const CertificateStatus& c : state.certificates) {
    for (const PurposeStatus& p : c.purposes) {
      const std::optional<std::string> v = value(c, p);
      if (!v) continue;
      Labels labels = {{"purpose", p.purpose}, {"certificate", c.id}};
      if (with_thumbprint) labels.emplace_back("thumbprint", p.thumbprint);
      sample(out, name, labels, *v);
    }
  }
}

void render_certificates(std::string& out, const MetricsState& s) {
  using C = CertificateStatus;
  using P = PurposeStatus;
  per_purpose(out, s, "certagent_certificate_expiry_timestamp_seconds",
              "notAfter of the certificate bound to the purpose (Unix time).", true,
              [](const C&, const P& p) -> std::optional<std::string> {
                if (p.thumbprint.empty() || !p.not_after) return std::nullopt;
                return seconds_value(*p.not_after);
              });
  per_purpose(out, s, "certagent_purpose_bound", "1 when a certificate is bound to the purpose, else 0.", false,
              [](const C&, const P& p) -> std::optional<std::string> { return p.thumbprint.empty() ? "0" : "1"; });
  per_purpose(out, s, "certagent_purpose_complete",
              "1 when the purpose is bound to a certificate that carries every name the policy requires and is not "
              "due, else 0.",
              false, [](const C& c, const P&) -> std::optional<std::string> { return c.current ? "1" : "0"; });
  per_purpose(out, s, "certagent_next_renewal_timestamp_seconds",
              "When the certificate is renewed or retried next (Unix time).", false,
              [](const C& c, const P&) -> std::optional<std::string> {
                if (!c.next_renewal) return std::nullopt;
                return seconds_value(*c.next_renewal);
              });
  per_purpose(out, s, "certagent_consecutive_failures", "Failed issuance attempts since the last success.", false,
              [](const C& c, const P&) -> std::optional<std::string> {
                return std::to_string(c.consecutive_failures);
              });
  per_purpose(out, s, "certagent_last_success_timestamp_seconds",
              "When the certificate was last issued successfully (Unix time).", false,
              [](const C& c, const P&) -> std::optional<std::string> {
                if (!c.last_success) return std::nullopt;
                return seconds_value(*c.last_success);
              });
}

void render_histogram(std::string& out, const MetricsState& s) {
  constexpr std::string_view name = "certagent_issuance_duration_seconds";
  header(out, name, "histogram", "Duration of ACME issuance attempts (order to stored certificate).");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kIssuanceBuckets.size(); ++i) {
    cumulative += s.duration_buckets[i];
    const std::string le = fmt::format("{}", kIssuanceBuckets[i]);
    sample(out, fmt::format("{}_bucket", name), {{"le", le}}, std::to_string(cumulative));
  }
  sample(out, fmt::format("{}_bucket", name), {{"le", "+Inf"}}, std::to_string(s.duration_count));
  sample(out, fmt::format("{}_sum", name), {}, fmt::format("{}", s.duration_sum));
  sample(out, fmt::format("{}_count", name), {}, std::to_string(s.duration_count));
}

void render_counters(std::string& out, const MetricsState& s) {
  header(out, "certagent_issuance_total", "counter", "ACME issuance attempts by certificate, action and result.");
  for (const auto& [key, count] : s.issuances) {
    const auto& [certificate, action, result] = key;
    sample(out, "certagent_issuance_total", {{"certificate", certificate}, {"action", action}, {"result", result}},
           std::to_string(count));
  }
  header(out, "certagent_passes_total", "counter", "Passes of the agent by what woke it.");
  for (const auto& [reason, count] : s.passes)
    sample(out, "certagent_passes_total", {{"reason", reason}}, std::to_string(count));
}

void render_pool(std::string& out, const PoolView& v) {
  header(out, "certagent_pool_seen_timestamp_seconds", "gauge", "When the last pass read the pool's state in etcd (Unix time).");
  sample(out, "certagent_pool_seen_timestamp_seconds", {{"pool", v.pool}}, seconds_value(v.as_of));
  header(out, "certagent_pool_version_info", "gauge", "The pool's version of a pool-wide certificate and who ordered it.");
  for (const auto& c : v.certificates)
    if (!c.thumbprint.empty())
      sample(out, "certagent_pool_version_info",
             {{"pool", v.pool}, {"certificate", c.id}, {"thumbprint", c.thumbprint}, {"ordered_by", c.ordered_by}}, "1");
  header(out, "certagent_pool_leader", "gauge", "The member ordering a pool-wide certificate now.");
  for (const auto& c : v.certificates)
    if (!c.leader.empty()) sample(out, "certagent_pool_leader", {{"pool", v.pool}, {"certificate", c.id}, {"member", c.leader}}, "1");
  header(out, "certagent_pool_member_bound", "gauge",
         "Per member, the thumbprint it has bound: 1 when it is the pool's version, else 0.");
  for (const auto& c : v.certificates)
    for (const auto& [member, thumbprint] : c.bound)
      sample(out, "certagent_pool_member_bound",
             {{"pool", v.pool}, {"certificate", c.id}, {"member", member}, {"thumbprint", thumbprint}},
             thumbprint == c.thumbprint ? "1" : "0");
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void record_pass(MetricsState& state, WakeReason reason, std::chrono::sys_seconds started,
                 const PassSummary& summary) {
  state.certificates = summary.certificates;
  state.policy_valid = !summary.policy_error.has_value();
  state.last_pass = started;
  ++state.passes[to_string(reason)];
  for (const IssuanceAttempt& a : summary.attempts) {
    ++state.issuances[{a.certificate, a.action, a.succeeded ? "success" : "failure"}];
    const double seconds = std::chrono::duration<double>(a.duration).count();
    for (std::size_t i = 0; i < kIssuanceBuckets.size(); ++i) {
      if (seconds <= kIssuanceBuckets[i]) {
        ++state.duration_buckets[i];
        break;
      }
    }
    ++state.duration_count;
    state.duration_sum += seconds;
  }
}

std::string render_metrics(const MetricsState& state) {
  std::string out;
  render_certificates(out, state);
  render_counters(out, state);
  render_histogram(out, state);
  header(out, "certagent_policy_valid", "gauge", "0 while the policy file is invalid (the previous one is in force).");
  sample(out, "certagent_policy_valid", {}, state.policy_valid ? "1" : "0");
  if (state.last_pass) {
    header(out, "certagent_last_pass_timestamp_seconds", "gauge", "When the last pass started (Unix time).");
    sample(out, "certagent_last_pass_timestamp_seconds", {}, seconds_value(*state.last_pass));
  }
  if (state.pool) render_pool(out, *state.pool);
  return out;
}

}  // namespace certagent::agent
