#include "agent/cli/status_report.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "agent/cli/json_pretty.hpp"

namespace certagent::agent {

namespace json = boost::json;

namespace {

StatusCertificate& certificate(std::map<std::string, StatusCertificate>& by_id, const std::string& id) {
  auto& c = by_id[id];
  c.id = id;
  return c;
}

bool has_purpose(const StatusCertificate& c, std::string_view purpose) {
  return std::any_of(c.purposes.begin(), c.purposes.end(), [&](const auto& p) { return p.purpose == purpose; });
}

std::string when(std::optional<TimePoint> t, TimePoint now) {
  if (!t) return "-";
  const Seconds d = *t - now;
  if (d.count() < 0) return fmt::format("{} ({} ago)", format_rfc3339(*t), format_duration(-d));
  return fmt::format("{} (in {})", format_rfc3339(*t), format_duration(d));
}

std::string purpose_line(const StatusPurpose& p, TimePoint now) {
  if (p.version_id.empty()) return "unbound";
  if (!p.meta) return fmt::format("bound to {}, which is missing or incomplete", p.version_id);
  const CertificateMeta& m = *p.meta;
  const char* expired = m.not_after <= now ? "EXPIRED " : "";
  return fmt::format("{}  {} names  {}expires {}  (version {})", m.thumbprint, m.names.size(), expired,
                     when(m.not_after, now), p.version_id);
}

json::value time_json(std::optional<TimePoint> t) {
  if (!t) return nullptr;
  return json::value(format_rfc3339(*t));
}

json::object purpose_json(const StatusPurpose& p) {
  json::object o;
  o["purpose"] = p.purpose;
  o["bound"] = !p.version_id.empty();
  o["version"] = p.version_id.empty() ? json::value(nullptr) : json::value(p.version_id);
  o["complete"] = p.complete;
  if (p.meta) {
    o["thumbprint"] = p.meta->thumbprint;
    o["not_after"] = format_rfc3339(p.meta->not_after);
    o["names"] = p.meta->names.size();
  }
  return o;
}

json::object ari_json(const StatusAriWindow& w) {
  json::object o;
  o["thumbprint"] = w.thumbprint;
  o["window_start"] = format_rfc3339(w.start);
  o["window_end"] = format_rfc3339(w.end);
  o["fetched_at"] = time_json(w.fetched_at);
  o["next_check"] = format_rfc3339(w.next_check);
  return o;
}

json::value ca_ari_json(const std::optional<CaDirectoryNote>& note) {
  if (!note) return nullptr;
  return json::object{{"directory", note->directory_url},
                      {"offered", !note->renewal_info.empty()},
                      {"renewal_info", note->renewal_info},
                      {"checked_at", format_rfc3339(note->checked_at)}};
}

// The distinct thumbprints bound to the certificate's purposes.
std::vector<std::string> bound_thumbprints(const StatusCertificate& c) {
  std::vector<std::string> out;
  for (const auto& p : c.purposes)
    if (p.meta && std::find(out.begin(), out.end(), p.meta->thumbprint) == out.end()) out.push_back(p.meta->thumbprint);
  return out;
}

// The stored ARI windows of each certificate, and where its renewal time comes from.
void add_renewal_info(const Store& store, StatusReport& report) {
  auto note = read_ca_directory_note(store);
  if (!note) report.problems.push_back({ca_directory_note_path(store), note.error().message});
  else report.ca_ari = *note;
  for (StatusCertificate& c : report.certificates) {
    for (const auto& thumbprint : bound_thumbprints(c)) {
      auto window = read_status_ari(store, thumbprint);
      if (!window) report.problems.push_back({ari_record_path(store, thumbprint), window.error().message});
      else if (*window) c.ari.push_back(std::move(**window));
    }
    c.renewal_basis = recorded_renewal_basis(c.schedule).value_or(RenewalBasisSeen::Unknown);
  }
}

std::string basis_text(RenewalBasisSeen b) {
  switch (b) {
    case RenewalBasisSeen::Ari: return "the CA's ARI window";
    case RenewalBasisSeen::Lifetime: return "the lifetime rule (no ARI window applies)";
    case RenewalBasisSeen::RenewBefore: return "the policy's renewal setting";
    case RenewalBasisSeen::NearExpiry: return "near expiry (less than 1/20 of the lifetime left)";
    case RenewalBasisSeen::Expired: return "expiry (the certificate had expired)";
    case RenewalBasisSeen::Unknown: break;
  }
  return "-";
}

// The "renewal by" line's text: the basis, and when the ARI window it used was fetched.
std::string basis_line(const StatusCertificate& c, TimePoint now) {
  std::string out = basis_text(c.renewal_basis);
  if (c.renewal_basis == RenewalBasisSeen::Unknown) return out;
  if (c.renewal_basis == RenewalBasisSeen::Ari && c.schedule && c.schedule->ari_fetched_at)
    out += ", window fetched " + when(c.schedule->ari_fetched_at, now);
  return out;
}

json::object schedule_json(const ScheduleRecord& s, TimePoint now) {
  json::object o;
  o["next_attempt"] = time_json(next_attempt_time(s));
  o["renew_at"] = time_json(s.renew_at);
  o["ari_fetched_at"] = time_json(s.ari_fetched_at);
  o["decision"] = s.decision;
  o["decided_at"] = time_json(s.decided_at);
  o["consecutive_failures"] = s.backoff.consecutive_failures;
  o["permanent_error"] = s.backoff.permanent;
  o["retry_at"] = time_json(s.backoff.next_attempt);
  o["last_success"] = time_json(s.backoff.last_success);
  o["last_error"] = s.backoff.consecutive_failures > 0 ? json::value(s.backoff.last_error_message) : json::value(nullptr);
  o["backoff"] = describe(s.backoff, now);
  return o;
}

}  // namespace

Result<StatusReport> gather_status(const std::filesystem::path& state_dir) {
  auto store = Store::open(state_dir);
  if (!store) return std::unexpected(store.error());
  auto inventory = store->inventory();
  if (!inventory) return std::unexpected(inventory.error());
  auto schedules = list_schedules(*store);
  if (!schedules) return std::unexpected(schedules.error());

  std::map<std::string, StatusCertificate> by_id;
  for (const Binding& b : inventory->bindings) {
    const auto v = std::lower_bound(inventory->versions.begin(), inventory->versions.end(), b.version_id,
                                    [](const StoredVersion& s, const std::string& id) { return s.id < id; });  // sorted by id
    const bool found = b.complete && v != inventory->versions.end() && v->id == b.version_id;
    StatusPurpose p{b.purpose, b.version_id, found, found ? std::optional{v->meta} : std::nullopt};
    certificate(by_id, found ? v->meta.certificate_id : std::string()).purposes.push_back(std::move(p));
  }
  for (ScheduleRecord& s : schedules->records) {
    StatusCertificate& c = certificate(by_id, s.certificate_id);
    for (const auto& purpose : s.purposes)
      if (!has_purpose(c, purpose)) c.purposes.push_back({purpose, "", false, std::nullopt});
    c.schedule = std::move(s);
  }
  StatusReport report;
  for (auto& [id, c] : by_id) report.certificates.push_back(std::move(c));
  report.problems = std::move(inventory->problems);
  report.problems.insert(report.problems.end(), schedules->problems.begin(), schedules->problems.end());
  add_renewal_info(*store, report);
  auto pool = read_pool_view(state_dir);
  if (pool) report.pool = std::move(*pool);
  else report.problems.push_back({pool_view_path(state_dir), pool.error().message});
  return report;
}

namespace {

std::string ari_lines(const StatusAriWindow& w, std::size_t width, bool name_it, TimePoint now) {
  std::string out = fmt::format("  {:<{}}  {} .. {}{}\n", "ARI window", width, format_rfc3339(w.start), format_rfc3339(w.end),
                                name_it ? " (certificate " + w.thumbprint + ")" : "");
  out += fmt::format("  {:<{}}  {}\n", "ARI fetched", width, when(w.fetched_at, now));
  out += fmt::format("  {:<{}}  {}\n", "ARI next", width, when(w.next_check, now));
  return out;
}

std::string ca_ari_line(const CaDirectoryNote& note, TimePoint now) {
  return fmt::format("renewal information (ARI): {} {} (looked at {})\n", note.directory_url,
                     note.renewal_info.empty() ? "offers none" : "offers it", when(note.checked_at, now));
}

}  // namespace

namespace {

// The pool as the last pass saw it in etcd (docs/pool.md): per pool-wide certificate, who leads
// it now, the pool's version and who ordered it, and what each member has bound.
std::string pool_lines(const PoolView& v, TimePoint now) {
  std::string out = fmt::format("pool {} (this member: {}), as seen in etcd {}\n", v.pool, v.member,
                                when(v.as_of, now));
  for (const auto& c : v.certificates) {
    out += fmt::format("  {}: {}; leader {}\n", c.id,
                       c.thumbprint.empty() ? std::string("no version published")
                                            : fmt::format("version {} ordered by {}", c.thumbprint, c.ordered_by),
                       c.leader.empty() ? std::string("none (nothing being ordered)") : c.leader);
    for (const auto& [member, thumbprint] : c.bound)
      out += fmt::format("    {:<12}  {}{}\n", member, thumbprint,
                         !c.thumbprint.empty() && thumbprint != c.thumbprint ? " (not the pool's version)" : "");
  }
  return out;
}

json::object pool_json(const PoolView& v) {
  json::array certificates;
  for (const auto& c : v.certificates) {
    json::object bound;
    for (const auto& [member, thumbprint] : c.bound) bound[member] = thumbprint;
    certificates.push_back(json::object{{"id", c.id},
                                        {"leader", c.leader.empty() ? json::value(nullptr) : json::value(c.leader)},
                                        {"thumbprint", c.thumbprint.empty() ? json::value(nullptr) : json::value(c.thumbprint)},
                                        {"ordered_by", c.ordered_by.empty() ? json::value(nullptr) : json::value(c.ordered_by)},
                                        {"bound", std::move(bound)}});
  }
  return json::object{{"name", v.pool}, {"member", v.member}, {"as_of", format_rfc3339(v.as_of)},
                      {"certificates", std::move(certificates)}};
}

}  // namespace

std::string render_status_text(const StatusReport& report, TimePoint now) {
  std::string out;
  if (report.certificates.empty()) out += "Nothing is bound and nothing is scheduled yet.\n";
  for (const StatusCertificate& c : report.certificates) {
    out += fmt::format("certificate {}\n", c.id.empty() ? "(no certificate id: bound by hand)" : c.id);
    std::size_t width = 12;
    for (const auto& p : c.purposes) width = std::max(width, p.purpose.size());
    for (const auto& p : c.purposes) out += fmt::format("  {:<{}}  {}\n", p.purpose, width, purpose_line(p, now));
    if (!c.schedule) {
      out += fmt::format("  {:<{}}  no schedule recorded yet\n", "next", width);
      for (const auto& w : c.ari) out += ari_lines(w, width, c.ari.size() > 1, now);
      continue;
    }
    out += fmt::format("  {:<{}}  {}\n", "next", width, when(next_attempt_time(*c.schedule), now));
    out += fmt::format("  {:<{}}  {}\n", "renewal by", width, basis_line(c, now));
    for (const auto& w : c.ari) out += ari_lines(w, width, c.ari.size() > 1, now);
    if (!c.schedule->decision.empty()) out += fmt::format("  {:<{}}  {}\n", "decision", width, c.schedule->decision);
    out += fmt::format("  {:<{}}  {}\n", "back-off", width, describe(c.schedule->backoff, now));
    if (c.schedule->backoff.last_success)
      out += fmt::format("  {:<{}}  {}\n", "last issued", width, when(c.schedule->backoff.last_success, now));
  }
  if (report.ca_ari) out += ca_ari_line(*report.ca_ari, now);
  if (report.pool) out += pool_lines(*report.pool, now);
  for (const Problem& p : report.problems) out += fmt::format("problem: {}: {}\n", p.path.string(), p.what);
  return out;
}

std::string render_status_json(const StatusReport& report, TimePoint now) {
  json::object root;
  root["now"] = format_rfc3339(now);
  json::array certificates;
  for (const StatusCertificate& c : report.certificates) {
    json::object o;
    o["id"] = c.id;
    json::array purposes;
    for (const auto& p : c.purposes) purposes.push_back(purpose_json(p));
    o["purposes"] = std::move(purposes);
    o["schedule"] = c.schedule ? json::value(schedule_json(*c.schedule, now)) : json::value(nullptr);
    o["renewal_basis"] = c.renewal_basis == RenewalBasisSeen::Unknown ? json::value(nullptr)
                                                                      : json::value(to_string(c.renewal_basis));
    json::array ari;
    for (const auto& w : c.ari) ari.push_back(ari_json(w));
    o["ari"] = std::move(ari);
    certificates.push_back(std::move(o));
  }
  root["certificates"] = std::move(certificates);
  root["ari"] = ca_ari_json(report.ca_ari);
  root["pool"] = report.pool ? json::value(pool_json(*report.pool)) : json::value(nullptr);
  json::array problems;
  for (const Problem& p : report.problems) problems.push_back(json::object{{"path", p.path.string()}, {"what", p.what}});
  root["problems"] = std::move(problems);
  return pretty_json(root);
}

}  // namespace certagent::agent
