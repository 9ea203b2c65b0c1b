#pragma once
// The variables a role's name templates see: the user's "variables" and, for
// the Lync roles, those set from the role's fields (see presets_text()).
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "policy/name_template.hpp"
#include "policy/parse_internal.hpp"
#include "policy/reader.hpp"

namespace certagent::policy {

// A DNS name or an array of them; each value remembers its policy path.
[[nodiscard]] Result<std::vector<VariableValue>> read_name_values(const Reader& r, const json::value& v,
                                                                  const std::string& path);

// The Lync role's variables (pool_fqdn, server_fqdn, meet, ..., autodiscover_domains)
// on top of `ctx.variables`. `kind` is one of the preset kinds.
[[nodiscard]] Result<Variables> lync_variables(const Reader& r, const json::object& role, const std::string& path,
                                               const std::string& kind, const RoleContext& ctx);

// ctx.variables plus sip_domains, for a custom role.
[[nodiscard]] Variables custom_variables(const RoleContext& ctx);

// Adds the role's own "variables" (which may not redefine a variable already set).
[[nodiscard]] Result<void> add_role_variables(const Reader& r, const json::object& role, const std::string& path,
                                              Variables& vars);

}  // namespace certagent::policy
