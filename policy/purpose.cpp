#include "policy/purpose.hpp"

#include <cctype>

namespace certagent::policy {

std::string_view to_string(LyncPurpose p) {
  switch (p) {
    case LyncPurpose::Default: return "Default";
    case LyncPurpose::WebServicesInternal: return "WebServicesInternal";
    case LyncPurpose::WebServicesExternal: return "WebServicesExternal";
  }
  return "Default";
}

std::optional<LyncPurpose> parse_lync_purpose(std::string_view s) {
  for (auto p : {LyncPurpose::Default, LyncPurpose::WebServicesInternal, LyncPurpose::WebServicesExternal}) {
    std::string_view name = to_string(p);
    if (name.size() != s.size()) continue;
    bool same = true;
    for (size_t i = 0; i < s.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(s[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return p;
  }
  return std::nullopt;
}

}  // namespace certagent::policy
