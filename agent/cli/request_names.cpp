#include "agent/cli/request_names.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/dns_name.hpp"
#include "policy/required.hpp"

namespace certagent::agent {
namespace {

bool only_autodiscover(const policy::RequiredName& n) {
  return !n.rules.empty() && std::all_of(n.rules.begin(), n.rules.end(), [](const std::string& r) {
    return r == "autodiscover-internal" || r == "autodiscover-external";
  });
}

const policy::Role* role_serving(const policy::Policy& policy, const std::vector<std::string>& purposes) {
  for (const auto& role : policy.roles) {
    bool all = std::all_of(purposes.begin(), purposes.end(), [&](const std::string& p) {
      return std::any_of(role.purposes.begin(), role.purposes.end(),
                         [&](const policy::PurposeNames& pn) { return pn.purpose == p; });
    });
    if (all) return &role;
  }
  return nullptr;
}

void add_unique(std::vector<std::string>& names, const std::string& n) {
  if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
}

std::string certificate_id_for(const policy::Policy& policy, const policy::Role& role,
                               const std::vector<std::string>& purposes) {
  auto sorted = purposes;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& req : policy::required_certificates(policy)) {
    auto theirs = req.purposes;
    std::sort(theirs.begin(), theirs.end());
    if (req.role == role.id && theirs == sorted) return req.id;
  }
  return fmt::format("{}-{}", role.id, fmt::join(purposes, "-"));
}

constexpr std::string_view kExternal = "lyncdiscover.";
constexpr std::string_view kInternal = "lyncdiscoverinternal.";

bool wants(const std::vector<std::string>& purposes, std::string_view p) {
  return std::find(purposes.begin(), purposes.end(), p) != purposes.end();
}

// The guide (Request-CsCertificate, step 12): "When you use the DomainName parameter, you must
// use an appropriate prefix for the SIP domain FQDN" — lyncdiscover.<d> for WebServicesExternal,
// lyncdiscoverinternal.<d> for WebServicesInternal. A name without one would cost an order and
// give a certificate no purpose can use: refused before any key or request, with the names meant.
Result<void> check_prefix(const std::string& name, const std::vector<std::string>& purposes) {
  const bool external = wants(purposes, "WebServicesExternal"), internal = wants(purposes, "WebServicesInternal");
  if ((external && name.starts_with(kExternal)) || (internal && name.starts_with(kInternal))) return ok();
  std::string domain = name;
  for (auto prefix : {kInternal, kExternal})
    if (domain.starts_with(prefix)) domain = domain.substr(prefix.size());
  std::vector<std::string> meant;
  if (external) meant.push_back(fmt::format("{}{} (WebServicesExternal)", kExternal, domain));
  if (internal) meant.push_back(fmt::format("{}{} (WebServicesInternal)", kInternal, domain));
  if (meant.empty())
    return fail(ErrorKind::Invalid, fmt::format("--domain-name \"{}\": --domain-name gives the Autodiscover names of "
                                                "WebServicesInternal or WebServicesExternal; add one of them to --type",
                                                name));
  return fail(ErrorKind::Invalid,
              fmt::format("--domain-name \"{}\" lacks the prefix of the requested type: \"When you use the DomainName "
                          "parameter, you must use an appropriate prefix for the SIP domain FQDN\" — probably meant: {}",
                          name, fmt::join(meant, " or ")));
}

}  // namespace

Result<RequestPlan> request_plan(const policy::Policy& policy, const std::vector<std::string>& purposes,
                                 const std::optional<std::vector<std::string>>& domain_names) {
  const policy::Role* role = role_serving(policy, purposes);
  if (!role)
    return fail(ErrorKind::Invalid, fmt::format("no role in the policy serves all of {}", fmt::join(purposes, ", ")));
  RequestPlan plan{certificate_id_for(policy, *role, purposes), {}, role->key,
                   policy::purpose_profile(policy, *role, purposes.front()), {}, {}};
  for (const auto& pn : role->purposes) {
    if (std::find(purposes.begin(), purposes.end(), pn.purpose) == purposes.end()) continue;
    for (const auto& n : pn.names)
      if (!domain_names || !only_autodiscover(n)) add_unique(plan.names, n.name);
  }
  for (const auto& d : domain_names.value_or(std::vector<std::string>{})) {
    auto name = normalize_dns_name(d);
    if (!name) return fail(ErrorKind::Invalid, fmt::format("--domain-name \"{}\": {}", d, name.error().message));
    if (auto prefixed = check_prefix(*name, purposes); !prefixed) return std::unexpected(prefixed.error());
    add_unique(plan.names, *name);
  }
  // Both Autodiscover types on one certificate: each listed domain needs both names.
  if (domain_names && wants(purposes, "WebServicesExternal") && wants(purposes, "WebServicesInternal")) {
    const std::vector<std::string> listed = plan.names;
    for (const auto& n : listed) {
      for (auto [have, other] : {std::pair{kInternal, kExternal}, std::pair{kExternal, kInternal}}) {
        if (!n.starts_with(have)) continue;
        const std::string counterpart = std::string(other) + n.substr(have.size());
        if (std::find(plan.names.begin(), plan.names.end(), counterpart) != plan.names.end()) continue;
        plan.names.push_back(counterpart);
        plan.added.push_back(counterpart);
      }
    }
    if (!plan.added.empty())
      plan.added_because = "WebServicesExternal and WebServicesInternal share this certificate, and each needs its "
                           "Autodiscover name for every listed domain (lyncdiscover.<d> and lyncdiscoverinternal.<d>)";
  }
  if (plan.names.empty()) return fail(ErrorKind::Invalid, "the request has no names");
  return plan;
}

}  // namespace certagent::agent
