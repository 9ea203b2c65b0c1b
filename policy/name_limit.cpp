// The names one certificate may carry (ca.max_names): the guide's "If you have many SIP domains,
// you cannot use the new AllSipDomain parameter. Instead, you must use DomainName parameter" —
// checked when the policy is read, so the first word of a CA's limit is not its refusal.
#include <fmt/format.h>

#include <algorithm>

#include "policy/parse_internal.hpp"
#include "policy/required.hpp"
#include "policy/source.hpp"

namespace certagent::policy {
namespace {

// Where the names come from, for the error's position: the role's explicit `autodiscover`
// list, else the top-level `sip_domains` (the AllSipDomain case), else the role itself.
std::string blame_path(const json::object& top, const std::vector<Role>& roles, const std::string& role_id) {
  const auto it = std::find_if(roles.begin(), roles.end(), [&](const Role& r) { return r.id == role_id; });
  const std::size_t index = static_cast<std::size_t>(it - roles.begin());
  const std::string role_path = element_path("roles", index);
  const auto* list = top.if_contains("roles");
  if (list != nullptr && list->is_array() && index < list->as_array().size()) {
    const auto& role = list->as_array()[index];
    if (role.is_object() && role.as_object().contains("autodiscover") && role.as_object().at("autodiscover").is_array())
      return member_path(role_path, "autodiscover");
  }
  if (top.contains("sip_domains")) return "sip_domains";
  return role_path;
}

}  // namespace

Result<void> check_name_limit(const Reader& r, const json::object& top, const Policy& p) {
  const int limit = p.ca.max_names.value_or(kDefaultMaxNames);
  for (const auto& cert : required_certificates(p)) {
    if (cert.names.size() <= static_cast<std::size_t>(limit)) continue;
    const auto role = std::find_if(p.roles.begin(), p.roles.end(), [&](const Role& x) { return x.id == cert.role; });
    std::string per_purpose;
    bool each_fits = true;
    if (role != p.roles.end())
      for (const auto& purpose : role->purposes) {
        if (std::find(cert.purposes.begin(), cert.purposes.end(), purpose.purpose) == cert.purposes.end()) continue;
        per_purpose += fmt::format("{}{} {}", per_purpose.empty() ? "" : ", ", purpose.purpose, purpose.names.size());
        each_fits = each_fits && purpose.names.size() <= static_cast<std::size_t>(limit);
      }
    const std::string separate = cert.layout == Layout::Shared && cert.purposes.size() > 1 && each_fits
                                     ? " or give each purpose its own certificate (\"layout\": \"separate\" on the role)"
                                     : "";
    return r.fail(blame_path(top, p.roles, cert.role),
                  fmt::format("certificate '{}' would carry {} names ({}; {} SIP domain(s)), more than the CA "
                              "takes on one certificate (ca.max_names: {}{}). The guide: \"If you have many SIP "
                              "domains, you cannot use the new AllSipDomain parameter. Instead, you must use "
                              "DomainName parameter\": list the Autodiscover domains this certificate must serve "
                              "(\"autodiscover\": [\"contoso.com\", ...] on the role){}",
                              cert.id, cert.names.size(), per_purpose, p.sip_domains.size(), limit,
                              p.ca.max_names ? "" : ", the default", separate));
  }
  return ok();
}

}  // namespace certagent::policy
