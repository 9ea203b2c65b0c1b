#pragma once
// The names each purpose requires by the policy (the union over the roles
// that serve it), for the commands that judge one certificate against
// purposes: `certs` (what is missing) and `assign` (refuse what lacks names).
#include <map>
#include <string>
#include <vector>

#include "agent/store/store.hpp"
#include "policy/model.hpp"

namespace certagent::agent {

using PurposeNamesMap = std::map<std::string, std::vector<std::string>>;

[[nodiscard]] PurposeNamesMap required_names_by_purpose(const policy::Policy& policy);

// `required` minus `have` (DNS names compare case-insensitively), in `required`'s order.
[[nodiscard]] std::vector<std::string> missing_names(const std::vector<std::string>& required,
                                                     const std::vector<std::string>& have);

// The purpose list of --type: "Default,WebServicesExternal" (spaces allowed).
[[nodiscard]] std::vector<std::string> split_list(const std::string& text);

// The complete version a purpose is bound to, if any.
[[nodiscard]] const StoredVersion* bound_version(const Inventory& inventory, const std::string& purpose);

}  // namespace certagent::agent
