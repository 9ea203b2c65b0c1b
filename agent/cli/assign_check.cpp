#include "agent/cli/assign_check.hpp"

#include <fmt/format.h>

#include "agent/store/certificate_meta.hpp"

namespace certagent::agent {

std::vector<std::string> assign_refusals(const StoredVersion& version, const std::vector<std::string>& purposes,
                                         const PurposeNamesMap& required, std::chrono::sys_seconds now) {
  std::vector<std::string> out;
  const auto& m = version.meta;
  if (m.not_after <= now) out.push_back(fmt::format("the certificate expired at {}", format_rfc3339(m.not_after)));
  for (const auto& p : purposes) {
    auto it = required.find(p);
    if (it == required.end()) {
      out.push_back(fmt::format("the policy has no purpose \"{}\"", p));
      continue;
    }
    auto missing = missing_names(it->second, m.names);
    if (!missing.empty()) out.push_back(fmt::format("{} lacks {}", p, fmt::join(missing, ", ")));
  }
  return out;
}

}  // namespace certagent::agent
