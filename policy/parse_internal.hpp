#pragma once
// Pieces of parse_policy() that live in their own files.
#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "policy/model.hpp"
#include "policy/name_template.hpp"
#include "policy/reader.hpp"

namespace certagent::policy {

// What every role sees from the top level of the policy.
struct RoleContext {
  std::optional<std::vector<std::string>> sip_domains;  // unset when the key is absent
  Variables variables;                                  // top-level "variables"
  KeyType key = KeyType::EcP256;
};

[[nodiscard]] Result<Variables> read_variables(const Reader& r, const json::value& v, const std::string& path);
[[nodiscard]] Result<std::vector<Role>> read_roles(const Reader& r, const json::value& v, const RoleContext& ctx);
// Every certificate the policy needs (nothing bound yet) within ca.max_names; the error points
// at the role's `autodiscover` list or the top-level `sip_domains` (name_limit.cpp).
[[nodiscard]] Result<void> check_name_limit(const Reader& r, const json::object& top, const Policy& p);
[[nodiscard]] Result<std::map<std::string, PurposeOutput>> read_outputs(const Reader& r, const json::value& v,
                                                                        const std::vector<Role>& roles);
// "challenge": one object, or a list whose entries select names (parse_challenge.cpp).
[[nodiscard]] Result<std::vector<Challenge>> read_challenges(const Reader& r, const json::value& v,
                                                             const std::string& path);
// Every name of every certificate the policy needs has a challenge that can validate it (a
// wildcard: dns-01 or dns-persist-01); the error points at the value or template the name came from.
[[nodiscard]] Result<void> check_challenge_coverage(const Reader& r, const Policy& p);
// "pool": etcd, this member, the pool's key; "certificates" must name certificates of `roles`
// (parse_pool.cpp).
[[nodiscard]] Result<Pool> read_pool(const Reader& r, const json::value& v, const std::string& path,
                                     const std::vector<Role>& roles);
// A role whose purposes may share one certificate (layout shared or auto) must not give them
// different profiles: one certificate has one profile.
[[nodiscard]] Result<void> check_one_profile_per_certificate(const Policy& policy);

}  // namespace certagent::policy
