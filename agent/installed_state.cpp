#include "agent/installed_state.hpp"

#include <system_error>

namespace certagent::agent {

policy::Installed to_installed(const Inventory& inventory) {
  policy::Installed out;
  for (const auto& v : inventory.versions) {
    auto key = policy::parse_key_type(v.meta.key_type);
    if (!key) continue;  // a key policy/ cannot ask for: never a fit
    out.certificates.push_back({v.meta.thumbprint, v.meta.names, policy::TimePoint(v.meta.not_before),
                                policy::TimePoint(v.meta.not_after), *key, std::nullopt});
  }
  for (const auto& b : inventory.bindings) {
    std::string thumbprint = b.version_id;
    for (const auto& v : inventory.versions)
      if (b.complete && v.id == b.version_id) thumbprint = v.meta.thumbprint;
    out.bindings[b.purpose] = thumbprint;
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
