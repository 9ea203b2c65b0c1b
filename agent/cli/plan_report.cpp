#include "agent/cli/plan_report.hpp"

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "policy/challenge_select.hpp"
#include "policy/presets.hpp"

namespace certagent::agent {
namespace {

namespace json = boost::json;

json::array strings(const std::vector<std::string>& v, const json::storage_ptr& sp) {
  return json::array(v.begin(), v.end(), sp);
}

std::string purposes_of(const policy::Action& a) { return fmt::format("{}", fmt::join(a.certificate.purposes, ",")); }

// "dns-01", or "dns-01 (challenge[1])" when the policy lists several challenges.
std::string challenge_of(const std::vector<policy::Challenge>& challenges, const std::string& name) {
  if (challenges.empty()) return {};
  const auto& c = challenges[policy::challenge_index(challenges, name)];
  if (challenges.size() == 1) return std::string(policy::to_string(c.type));
  return fmt::format("{} ({})", policy::to_string(c.type), c.at);
}

void append_names(std::string& out, const policy::Action& a, const std::vector<policy::Challenge>& challenges,
                  std::set<std::string>& rules_used) {
  size_t width = 0, challenge_w = 0;
  for (const auto& n : a.certificate.names) {
    width = std::max(width, n.name.size());
    challenge_w = std::max(challenge_w, challenge_of(challenges, n.name).size());
  }
  for (const auto& n : a.certificate.names) {
    if (challenges.empty())
      out += fmt::format("    {:<{}}  {}\n", n.name, width, fmt::join(n.rules, ", "));
    else
      out += fmt::format("    {:<{}}  {:<{}}  {}\n", n.name, width, challenge_of(challenges, n.name), challenge_w,
                         fmt::join(n.rules, ", "));
    rules_used.insert(n.rules.begin(), n.rules.end());
  }
}

void append_rules(std::string& out, const std::set<std::string>& used) {
  auto all = policy::presets();
  if (!all) return;
  std::string legend;
  for (const auto& id : used)
    if (auto it = (*all)->rules.find(id); it != (*all)->rules.end())
      legend += fmt::format("  {}: {}\n", id, it->second);
  if (!legend.empty()) out += "\nRules (Lync Server 2013, \"Configuring certificates for Autodiscover\"):\n" + legend;
}

}  // namespace

std::string plan_table(const std::vector<policy::Action>& actions, int verbosity,
                       const std::vector<policy::Challenge>& challenges) {
  size_t id_w = 11, purposes_w = 8;
  for (const auto& a : actions) {
    id_w = std::max(id_w, a.certificate.id.size());
    purposes_w = std::max(purposes_w, purposes_of(a).size());
  }
  std::string out = fmt::format("{:<{}}  {:<7}  {:<{}}  {:>5}  {:>7}  {:>5}\n", "CERTIFICATE", id_w, "ACTION",
                                "PURPOSES", purposes_w, "NAMES", "MISSING", "EXTRA");
  std::set<std::string> rules_used;
  for (const auto& a : actions) {
    out += fmt::format("{:<{}}  {:<7}  {:<{}}  {:>5}  {:>7}  {:>5}\n", a.certificate.id, id_w,
                       policy::to_string(a.kind), purposes_of(a), purposes_w, a.certificate.names.size(),
                       a.missing.size(), a.extra.size());
    out += fmt::format("  {}\n", a.reason);
    if (!a.missing.empty()) out += fmt::format("  missing: {}\n", fmt::join(a.missing, " "));
    if (!a.extra.empty()) out += fmt::format("  extra:   {}\n", fmt::join(a.extra, " "));
    if (verbosity >= 1) {
      out += fmt::format("  names ({}, key {}){}:\n", a.certificate.layout == policy::Layout::Shared ? "shared" : "separate",
                         policy::to_string(a.certificate.key), challenges.empty() ? "" : ", challenge and rules");
      append_names(out, a, challenges, rules_used);
    }
  }
  if (verbosity >= 1) append_rules(out, rules_used);
  return out;
}

json::value plan_json(const std::vector<policy::Action>& actions, const std::vector<policy::Challenge>& challenges) {
  // One bump allocator for the whole document (shared by its values, freed with it): a plan of
  // a thousand certificates is some 30,000 values.
  const json::storage_ptr sp = json::make_shared_resource<json::monotonic_resource>();
  json::array certs(sp);
  certs.reserve(actions.size());
  for (const auto& a : actions) {
    // Sized up front: an object grown key by key leaves each outgrown table in the bump
    // allocator (33 MiB of `plan --json`'s 60 at 10,000 certificates: issue 26).
    json::object c(16, sp);
    c["id"] = a.certificate.id;
    c["role"] = a.certificate.role;
    c["purposes"] = strings(a.certificate.purposes, sp);
    json::array names(sp);
    names.reserve(a.certificate.names.size());
    json::object rules(a.certificate.names.size(), sp);
    json::object by_challenge(challenges.empty() ? 0 : a.certificate.names.size(), sp);
    for (const auto& n : a.certificate.names) {
      names.emplace_back(n.name);
      rules[n.name] = strings(n.rules, sp);
      if (!challenges.empty())
        by_challenge[n.name] = policy::to_string(challenges[policy::challenge_index(challenges, n.name)].type);
    }
    c["names"] = std::move(names);
    c["action"] = policy::to_string(a.kind);
    c["reason"] = a.reason;
    c["missing"] = strings(a.missing, sp);
    c["extra"] = strings(a.extra, sp);
    c["key"] = policy::to_string(a.certificate.key);
    c["layout"] = policy::to_string(a.certificate.layout);
    c["rules"] = std::move(rules);
    if (!challenges.empty()) c["challenges"] = std::move(by_challenge);
    if (a.thumbprint) c["thumbprint"] = *a.thumbprint;
    if (!a.rebind.empty()) c["rebind"] = strings(a.rebind, sp);
    if (a.renewal_due)
      c["renewal_due"] = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(*a.renewal_due));
    certs.emplace_back(std::move(c));
  }
  json::object root(2, sp);
  root["certificates"] = std::move(certs);
  return root;
}

}  // namespace certagent::agent
