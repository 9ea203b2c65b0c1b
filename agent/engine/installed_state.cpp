#include "agent/engine/installed_state.hpp"

#include <string_view>
#include <system_error>
#include <unordered_map>

namespace certagent::agent {

policy::Installed to_installed(const Inventory& inventory) {
  policy::Installed out;
  for (const auto& v : inventory.versions) {
    auto key = policy::parse_key_type(v.meta.key_type);
    if (!key) continue;  // a key policy/ cannot ask for: never a fit
    out.certificates.push_back({v.meta.thumbprint, v.meta.names, TimePoint(v.meta.not_before),
                                TimePoint(v.meta.not_after), *key, std::nullopt, v.meta.profile});
  }
  std::unordered_map<std::string_view, const std::string*> thumbprints;  // version id -> thumbprint
  thumbprints.reserve(inventory.versions.size());
  for (const auto& v : inventory.versions) thumbprints.emplace(v.id, &v.meta.thumbprint);
  for (const auto& b : inventory.bindings) {
    auto it = b.complete ? thumbprints.find(b.version_id) : thumbprints.end();
    out.bindings[b.purpose] = it == thumbprints.end() ? b.version_id : *it->second;
  }
  return out;
}

Result<policy::Installed> installed_state(const std::filesystem::path& state_dir, std::vector<std::string>& problems) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(state_dir, ec))) return policy::Installed{};
  auto store = Store::open(state_dir);
  if (!store) return std::unexpected(store.error());
  auto inventory = store->inventory();
  if (!inventory) return std::unexpected(inventory.error().context("reading what is installed"));
  for (const auto& p : inventory->problems) problems.push_back(p.path.string() + ": " + p.what);
  return to_installed(*inventory);
}

}  // namespace certagent::agent
