#include "policy/challenge_select.hpp"

#include <algorithm>

namespace certagent::policy {

bool in_zone(std::string_view name, std::string_view zone) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name == zone) return true;
  return name.size() > zone.size() && name.ends_with(zone) && name[name.size() - zone.size() - 1] == '.';
}

const Challenge* challenge_for(const std::vector<Challenge>& challenges, std::string_view name) {
  const bool wildcard = name.starts_with("*.");
  const Challenge* by_default = nullptr;
  const Challenge* by_zone = nullptr;
  std::size_t zone_length = 0;
  for (const auto& c : challenges) {
    if (wildcard && !validates_wildcards(c.type)) continue;
    if (std::find(c.names.begin(), c.names.end(), name) != c.names.end()) return &c;
    for (const auto& zone : c.zones)
      if (in_zone(name, zone) && (by_zone == nullptr || zone.size() > zone_length)) {
        by_zone = &c;
        zone_length = zone.size();
      }
    if (c.names.empty() && c.zones.empty() && by_default == nullptr) by_default = &c;
  }
  return by_zone != nullptr ? by_zone : by_default;
}

std::size_t challenge_index(const std::vector<Challenge>& challenges, std::string_view name) {
  if (const auto* c = challenge_for(challenges, name)) return static_cast<std::size_t>(c - challenges.data());
  const bool wildcard = name.starts_with("*.");
  for (std::size_t i = 0; i < challenges.size(); ++i)
    if (!wildcard || validates_wildcards(challenges[i].type)) return i;
  return 0;
}

}  // namespace certagent::policy
