#include "protocol/acme/dns01_rfc2136_solver.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/escape.hpp"
#include "protocol/acme/dns01_hook_solver.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace {

using Records = ZoneRecords;

Result<TxtRecord> record_of(const ChallengeTask& task) {
  if (!task.type.empty() && task.type != "dns-01")
    return fail(ErrorKind::Invalid, "a dns-01 solver was given a '" + escape_control(task.type, 40) + "' challenge");
  auto name = dns01_record_name(task.identifier);
  if (!name) return std::unexpected(name.error());
  if (task.dns01_value.empty() || task.dns01_value.size() > 128 || !is_base64url(task.dns01_value))
    return fail(ErrorKind::Invalid, "dns-01 value for '" + *name + "' is not base64url: '" +
                                        escape_control(task.dns01_value, 80) + "'");
  return TxtRecord{std::move(*name), task.dns01_value};
}

std::vector<TxtRecord> as_vector(const std::set<TxtRecord>& s) { return {s.begin(), s.end()}; }

// A name server of the zone, asked at one of its addresses.
struct Target {
  std::string name;
  DnsServer server;
  [[nodiscard]] std::string str() const { return name + " (" + server.str() + ")"; }
};

}  // namespace

struct Rfc2136Solver::Impl {
  Rfc2136Options options;
  std::mutex mu;
  std::map<std::string, std::string> zones;    // record name -> zone
  std::map<std::string, std::string> cname_targets;  // record name -> where it goes (its CNAME's target)

  // _acme-challenge.<name> may be a CNAME into a zone kept for validation: update its target.
  Result<void> follow(TxtRecord& r) {
    if (auto it = cname_targets.find(r.name); it != cname_targets.end()) {
      r.name = it->second;
      return ok();
    }
    auto target = follow_cname(r.name, options.primary, options.exchange);
    if (!target) return std::unexpected(target.error());
    if (*target != r.name) acme_log().info("dns-01: {} is a CNAME; updating {} instead", r.name, *target);
    cname_targets[r.name] = *target;
    r.name = *target;
    return ok();
  }
  Records published;                          // added (or attempted), not yet deleted

  // The journal follows `published` (caller holds mu).
  Result<void> journal() {
    if (!options.journal) return ok();
    Records nonempty;
    for (const auto& [zone, records] : published)
      if (!records.empty()) nonempty[zone] = records;
    if (auto r = options.journal->save(nonempty); !r)
      return std::unexpected(r.error().context("journaling the dns-01 TXT records"));
    return ok();
  }

  Result<std::string> zone_of(const std::string& record) {
    if (options.zone) return *options.zone;
    if (auto it = zones.find(record); it != zones.end()) return it->second;
    auto zone = find_zone(record, options.primary, options.exchange);
    if (!zone) return std::unexpected(zone.error());
    zones[record] = *zone;
    return zone;
  }

  // The tasks' records grouped by zone.
  Result<Records> group(const std::vector<ChallengeTask>& tasks) {
    Records out;
    for (const auto& t : tasks) {
      auto r = record_of(t);
      if (!r) return std::unexpected(r.error());
      if (auto f = follow(*r); !f) return std::unexpected(f.error());
      auto zone = zone_of(r->name);
      if (!zone) return std::unexpected(zone.error());
      out[*zone].insert(std::move(*r));
    }
    return out;
  }

  Result<void> update(const std::string& zone, const std::set<TxtRecord>& records, UpdateOp op) const {
    auto pkt = build_txt_update(zone, as_vector(records), op, options.ttl);
    if (!pkt) return std::unexpected(pkt.error());
    return send_update(options.primary, options.key, zone, std::move(*pkt), options.exchange);
  }

  Result<std::vector<Target>> targets(const std::string& zone) const {
    auto ns = zone_name_servers(zone, options.primary, options.exchange);
    if (!ns) return std::unexpected(ns.error());
    std::vector<Target> out;
    for (const auto& n : *ns)
      for (const auto& a : n.addresses) out.push_back(Target{n.name, DnsServer{a, options.nameserver_port}});
    return out;
  }

  // What `target` lacks of `records` (empty: it serves them all).
  std::string lacking(const Target& target, const std::set<TxtRecord>& records) const {
    for (const auto& r : records) {
      auto values = authoritative_txt(r.name, target.server, options.exchange);
      if (!values) return target.str() + ": " + values.error().message;
      if (std::find(values->begin(), values->end(), r.value) == values->end())
        return target.str() + " does not serve the TXT value " + r.value + " at " + r.name + " yet";
    }
    return "";
  }
};

Rfc2136Solver::Rfc2136Solver(Rfc2136Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Rfc2136Solver::~Rfc2136Solver() = default;

Result<void> Rfc2136Solver::present_batch(const std::vector<ChallengeTask>& tasks) {
  std::lock_guard lock(impl_->mu);
  auto grouped = impl_->group(tasks);
  if (!grouped) return std::unexpected(grouped.error());
  for (const auto& [zone, records] : *grouped) {
    impl_->published[zone].insert(records.begin(), records.end());  // before sending: a lost answer may have applied
    if (auto j = impl_->journal(); !j) return j;
    const auto start = std::chrono::steady_clock::now();
    if (auto r = impl_->update(zone, records, UpdateOp::Add); !r) {
      // The server answered no: nothing was added (only a lost answer leaves them to clean up).
      if (r.error().kind != ErrorKind::Transport && r.error().kind != ErrorKind::Timeout) {
        for (const auto& rec : records) impl_->published[zone].erase(rec);
        if (auto j = impl_->journal(); !j) acme_log().warn("{}", j.error().message);
      }
      return r;
    }
    acme_log().info("dns-01: added {} TXT record(s) to the zone {} at {} in one update ({} ms)", records.size(), zone,
                    impl_->options.primary.str(),
                    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
  }
  return ok();
}

Result<void> Rfc2136Solver::await_published(const std::vector<ChallengeTask>& tasks, const Clock& clock,
                                            Waiter& waiter) {
  Records grouped;
  {
    std::lock_guard lock(impl_->mu);
    auto g = impl_->group(tasks);
    if (!g) return std::unexpected(g.error());
    grouped = std::move(*g);
  }
  const auto& o = impl_->options;
  const ClockTime begin = clock.now();
  const ClockTime deadline = begin + o.propagation_timeout;
  for (const auto& [zone, records] : grouped) {
    auto targets = impl_->targets(zone);
    if (!targets) return std::unexpected(targets.error().context("finding the name servers of " + zone));
    std::vector<std::string> lag;
    for (int round = 1;; ++round) {
      std::vector<Target> behind;
      lag.clear();
      for (const auto& t : *targets)
        if (auto l = impl_->lacking(t, records); !l.empty()) {
          behind.push_back(t);
          lag.push_back(std::move(l));
        }
      if (lag.empty()) break;
      *targets = std::move(behind);  // a server that serves them all is not asked again
      const ClockTime now = clock.now();
      if (now >= deadline)
        return fail(ErrorKind::Timeout, fmt::format("the TXT records of the zone {} did not reach every name server "
                                                    "within {} s: {}", zone,
                                                    std::chrono::duration_cast<std::chrono::seconds>(o.propagation_timeout).count(),
                                                    fmt::join(lag, "; ")), true);
      acme_log().debug("dns-01: round {}: {}", round, fmt::join(lag, "; "));
      if (auto w = waiter.wait_until(std::min(now + o.propagation_step, deadline)); !w)
        return std::unexpected(std::move(w.error()).context("waiting for the name servers of " + zone));
    }
    acme_log().info("dns-01: every name server of {} serves the {} record(s) after {} ms", zone, records.size(),
                    std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - begin).count());
  }
  return ok();
}

Result<void> Rfc2136Solver::clean_up_batch(const std::vector<ChallengeTask>& tasks) {
  std::lock_guard lock(impl_->mu);
  Records doomed;
  for (const auto& t : tasks) {
    auto r = record_of(t);
    if (!r) continue;  // never presented
    if (auto it = impl_->cname_targets.find(r->name); it != impl_->cname_targets.end()) r->name = it->second;
    for (const auto& [zone, records] : impl_->published)
      if (records.contains(*r)) doomed[zone].insert(*r);
  }
  Result<void> first;
  for (const auto& [zone, records] : doomed) {
    if (auto r = impl_->update(zone, records, UpdateOp::Delete); !r) {
      if (first) first = std::unexpected(r.error().context("removing the dns-01 TXT records"));
      continue;  // stays on record, so a later clean-up can retry
    }
    for (const auto& rec : records) impl_->published[zone].erase(rec);
    acme_log().info("dns-01: removed {} TXT record(s) from the zone {}", records.size(), zone);
  }
  if (auto j = impl_->journal(); !j && first) first = std::move(j);
  return first;
}

Result<std::size_t> Rfc2136Solver::remove_leftovers() {
  if (!impl_->options.journal) return 0;
  auto left = impl_->options.journal->load();
  if (!left) return std::unexpected(left.error().context("reading the journal of dns-01 TXT records"));
  std::lock_guard lock(impl_->mu);
  std::size_t removed = 0;
  for (const auto& [zone, records] : *left) {
    impl_->published[zone].insert(records.begin(), records.end());
    if (records.empty()) continue;
    if (auto r = impl_->update(zone, records, UpdateOp::Delete); !r)
      return std::unexpected(r.error().context("removing dns-01 TXT records an earlier run left"));
    for (const auto& rec : records) impl_->published[zone].erase(rec);
    removed += records.size();
    acme_log().info("dns-01: removed {} TXT record(s) an earlier run left in the zone {}", records.size(), zone);
  }
  if (auto j = impl_->journal(); !j) return std::unexpected(j.error());
  return removed;
}

}  // namespace certagent::protocol
