#include "agent/engine/installed_state.hpp"

#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>

namespace certagent::agent {

namespace {

template <typename Inv>
policy::Installed installed_from(Inv& inventory) {
  policy::Installed out;
  out.certificates.reserve(inventory.versions.size());
  for (auto& v : inventory.versions) {
    auto key = policy::parse_key_type(v.meta.key_type);
    if (!key) continue;  // a key policy/ cannot ask for: never a fit
    auto names = [&]() -> std::vector<std::string> {
      if constexpr (std::is_const_v<Inv>) return v.meta.names;
      else return std::move(v.meta.names);
    }();
    out.certificates.push_back({v.meta.thumbprint, std::move(names), TimePoint(v.meta.not_before),
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

}  // namespace

policy::Installed to_installed(const Inventory& inventory) { return installed_from(inventory); }

policy::Installed to_installed_moving_names(Inventory& inventory) { return installed_from(inventory); }

Result<policy::Installed> installed_state(const std::filesystem::path& state_dir, std::vector<std::string>& problems) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(state_dir, ec))) return policy::Installed{};
  auto store = Store::open(state_dir);
  if (!store) return std::unexpected(store.error());
  auto inventory = store->inventory(InventoryDetail::Plan);  // what plan reads, no more
  if (!inventory) return std::unexpected(inventory.error().context("reading what is installed"));
  for (const auto& p : inventory->problems) problems.push_back(p.path.string() + ": " + p.what);
  return to_installed_moving_names(*inventory);
}

}  // namespace certagent::agent
