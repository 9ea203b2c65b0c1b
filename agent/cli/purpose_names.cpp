#include "agent/cli/purpose_names.hpp"
#include "common/text.hpp"

#include <algorithm>
#include <cctype>

namespace certagent::agent {
namespace {


}  // namespace

PurposeNamesMap required_names_by_purpose(const policy::Policy& policy) {
  PurposeNamesMap out;
  for (const auto& role : policy.roles)
    for (const auto& p : role.purposes) {
      auto& names = out[p.purpose];
      for (const auto& n : p.names)
        if (std::find(names.begin(), names.end(), n.name) == names.end()) names.push_back(n.name);
    }
  return out;
}

std::vector<std::string> missing_names(const std::vector<std::string>& required, const std::vector<std::string>& have) {
  std::vector<std::string> have_lower;
  for (const auto& h : have) have_lower.push_back(ascii_lower(h));
  std::vector<std::string> out;
  for (const auto& r : required)
    if (std::find(have_lower.begin(), have_lower.end(), ascii_lower(r)) == have_lower.end()) out.push_back(r);
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ' && c != '\t' && c != '"' && c != '\'') {
      cur.push_back(c);
    }
  }
  return out;
}

// Binary searches: the inventory keeps bindings sorted by purpose and versions by id.
const StoredVersion* bound_version(const Inventory& inventory, const std::string& purpose) {
  auto b = std::lower_bound(inventory.bindings.begin(), inventory.bindings.end(), purpose,
                            [](const Binding& x, const std::string& p) { return x.purpose < p; });
  if (b == inventory.bindings.end() || b->purpose != purpose || !b->complete) return nullptr;
  auto v = std::lower_bound(inventory.versions.begin(), inventory.versions.end(), b->version_id,
                            [](const StoredVersion& x, const std::string& id) { return x.id < id; });
  return v != inventory.versions.end() && v->id == b->version_id ? &*v : nullptr;
}

}  // namespace certagent::agent
