#include "policy/required.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "policy/purpose_templates.hpp"
#include "common/text.hpp"

namespace certagent::policy {
namespace {


RequiredCertificate make_certificate(const Policy& policy, const Role& role, Layout layout,
                                     const std::vector<const PurposeNames*>& purposes) {
  RequiredCertificate cert;
  cert.role = role.id;
  cert.id = layout == Layout::Shared ? role.id : role.id + "-" + ascii_lower(purposes.front()->purpose);
  cert.key = role.key;
  cert.layout = layout;
  cert.renewal = policy.renewal;
  cert.profile = purpose_profile(policy, role, purposes.front()->purpose);  // one for all (check_one_profile_per_certificate)
  bool serves_default = false;
  NameSet set{cert.names};
  for (const auto* p : purposes) {
    cert.purposes.push_back(p->purpose);
    serves_default = serves_default || p->purpose == "Default";
    for (const auto& n : p->names) add_name(set, n.name, n.rules, n.at);
  }
  if (serves_default && role.primary_name) {
    auto it = std::find_if(cert.names.begin(), cert.names.end(),
                           [&](const RequiredName& n) { return n.name == *role.primary_name; });
    if (it != cert.names.end()) std::rotate(cert.names.begin(), it, it + 1);
  }
  return cert;
}

}  // namespace

std::optional<ProfileChoice> purpose_profile(const Policy& policy, const Role& role, const std::string& purpose) {
  if (auto it = policy.outputs.find(purpose); it != policy.outputs.end() && it->second.profile) return it->second.profile;
  if (role.profile) return role.profile;
  return policy.ca.profile;
}

Layout resolve_layout(const Role& role, const Bindings& bound) {
  if (role.layout != Layout::Auto) return role.layout;
  std::set<std::string> thumbprints;
  for (const auto& p : role.purposes)
    if (auto it = bound.find(p.purpose); it != bound.end()) thumbprints.insert(it->second);
  return thumbprints.size() > 1 ? Layout::Separate : Layout::Shared;
}

void for_each_required_certificate(const Policy& policy, const Bindings& bound,
                                   const std::function<void(RequiredCertificate&&)>& each) {
  for (const auto& role : policy.roles) {
    const Layout layout = resolve_layout(role, bound);
    if (layout == Layout::Shared || role.purposes.size() == 1) {
      std::vector<const PurposeNames*> all;
      for (const auto& p : role.purposes) all.push_back(&p);
      each(make_certificate(policy, role, Layout::Shared, all));
      continue;
    }
    for (const auto& p : role.purposes)  // a purpose that needs no names gets no certificate of its own
      if (!p.names.empty()) each(make_certificate(policy, role, Layout::Separate, {&p}));
  }
}

std::size_t count_required_certificates(const Policy& policy, const Bindings& bound) {
  std::size_t n = 0;
  for (const auto& role : policy.roles) {
    if (resolve_layout(role, bound) == Layout::Shared || role.purposes.size() == 1) {
      ++n;
      continue;
    }
    n += static_cast<std::size_t>(
        std::count_if(role.purposes.begin(), role.purposes.end(), [](const PurposeNames& p) { return !p.names.empty(); }));
  }
  return n;
}

std::vector<RequiredCertificate> required_certificates(const Policy& policy, const Bindings& bound) {
  std::vector<RequiredCertificate> out;
  out.reserve(count_required_certificates(policy, bound));  // no spare capacity: 10,000 of them are 2 MiB
  for_each_required_certificate(policy, bound, [&](RequiredCertificate&& c) { out.push_back(std::move(c)); });
  return out;
}

}  // namespace certagent::policy

namespace certagent::policy {

bool is_pool_wide(const Policy& policy, const RequiredCertificate& c) {
  if (!policy.pool) return false;
  if (policy.pool->certificates)
    return std::find(policy.pool->certificates->begin(), policy.pool->certificates->end(), c.id) !=
           policy.pool->certificates->end();
  return std::none_of(c.names.begin(), c.names.end(), [](const RequiredName& n) {
    return std::find(n.rules.begin(), n.rules.end(), "server") != n.rules.end();
  });
}

}  // namespace certagent::policy
