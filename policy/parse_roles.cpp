// "roles": each role's kind, id, layout, key and names, expanded per purpose.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "policy/parse_internal.hpp"
#include "policy/parse_variables.hpp"
#include "policy/presets.hpp"
#include "policy/purpose_templates.hpp"

namespace certagent::policy {
namespace {

bool is_role_id(std::string_view id) {
  if (id.empty() || id.size() > 63 || id.front() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string default_id(std::string_view kind) {
  return kind.starts_with("front-end") ? std::string("front-end") : std::string(kind);
}

Result<void> check_keys(const Reader& r, const json::value& v, const std::string& path, const std::string& kind) {
  auto o = kind == "custom"          ? r.object(v, path, {"role", "id", "layout", "key", "profile", "names", "extra_names", "variables"})
           : kind == "reverse-proxy" ? r.object(v, path, {"role", "id", "layout", "key", "profile", "names", "extra_names",
                                                          "variables", "server_fqdn", "simple_urls", "web_services",
                                                          "autodiscover"})
                                     : r.object(v, path, {"role", "id", "layout", "key", "profile", "names", "extra_names",
                                                          "variables", "server_fqdn", "pool_fqdn", "simple_urls",
                                                          "web_services", "autodiscover"});
  if (!o) return std::unexpected(o.error());
  return ok();
}

std::string purpose_list(const std::vector<PurposeTemplates>& purposes) {
  std::string out;
  for (const auto& p : purposes) out += fmt::format("{}{}", out.empty() ? "" : ", ", p.purpose);
  return out;
}

// "names" replaces a purpose's templates (for a custom role it defines the
// purposes); "extra_names" appends to existing ones.
Result<std::vector<PurposeTemplates>> role_templates(const Reader& r, const json::object& role, const std::string& path,
                                                     const std::string& kind) {
  std::vector<PurposeTemplates> out;
  if (kind != "custom") {
    auto all = presets();
    if (!all) return std::unexpected(all.error());
    out = (*all)->roles.find(kind)->second.purposes;
  } else if (!role.contains("names")) {
    return r.fail(path, "missing required key 'names' (a custom role's purposes and their name templates, "
                        "e.g. {\"https\": [\"www.{domains}\"]})");
  }
  // Each purpose's place in `out`, by name: a custom role may define thousands (issue 26: a search
  // of `out` per purpose made reading the policy quadratic).
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < out.size(); ++i) index.emplace(out[i].purpose, i);
  for (const char* key : {"names", "extra_names"}) {
    const json::value* v = role.if_contains(key);
    if (!v) continue;
    const std::string at = member_path(path, key);
    auto given = read_purpose_templates(r, *v, at);
    if (!given) return std::unexpected(given.error());
    for (auto& p : *given) {
      auto found = index.find(p.purpose);
      const bool adds_purpose = kind == "custom" && std::string_view(key) == "names";
      if (found == index.end() && !adds_purpose)
        return r.fail(member_path(at, p.purpose),
                      fmt::format("'{}' is not a purpose of this role (its purposes: {})", p.purpose,
                                  out.empty() ? std::string("none yet") : purpose_list(out)), Anchor::Key);
      if (found == index.end()) {
        index.emplace(p.purpose, out.size());
        out.push_back(std::move(p));
        continue;
      }
      auto& it = out[found->second];
      if (std::string_view(key) == "names") it.entries = std::move(p.entries);
      else it.entries.insert(it.entries.end(), p.entries.begin(), p.entries.end());
    }
  }
  return out;
}

Result<Variables> role_variables(const Reader& r, const json::object& role, const std::string& path,
                                 const std::string& kind, const RoleContext& ctx) {
  auto vars = kind == "custom" ? Result<Variables>(custom_variables(ctx)) : lync_variables(r, role, path, kind, ctx);
  if (!vars) return vars;
  if (auto added = add_role_variables(r, role, path, *vars); !added) return std::unexpected(added.error());
  return vars;
}

Result<void> read_identity(const Reader& r, const json::object& o, const std::string& path, Role& role,
                           const RoleContext& ctx) {
  role.id = default_id(role.kind);
  if (const auto* v = o.if_contains("id")) {
    auto id = r.string(*v, member_path(path, "id"));
    if (!id) return std::unexpected(id.error());
    if (!is_role_id(*id))
      return r.fail(member_path(path, "id"), fmt::format("'{}' is not a role id; use 1 to 63 lower-case letters, "
                                                         "digits and '-' (it names files in the state directory)", *id));
    role.id = *id;
  } else if (role.kind == "custom") {
    return r.fail(path, "missing required key 'id' (a custom role's stable name, e.g. \"mail\")");
  }
  role.layout = Layout::Auto;
  if (const auto* v = o.if_contains("layout")) {
    auto l = r.choice(*v, member_path(path, "layout"), {"shared", "separate", "auto"});
    if (!l) return std::unexpected(l.error());
    role.layout = *l == "shared" ? Layout::Shared : *l == "separate" ? Layout::Separate : Layout::Auto;
  }
  role.key = ctx.key;
  if (const auto* v = o.if_contains("key")) {
    auto k = r.string(*v, member_path(path, "key"));
    if (!k) return std::unexpected(k.error());
    auto key = parse_key_type(*k);
    if (!key) return r.fail(member_path(path, "key"), fmt::format("'{}' is not a key type; use one of {}", *k, kKeyTypeChoices));
    role.key = *key;
  }
  if (const auto* v = o.if_contains("profile")) {
    auto profile = r.profile(*v, member_path(path, "profile"));
    if (!profile) return std::unexpected(profile.error());
    role.profile = std::move(*profile);
  }
  return ok();
}

Result<Role> read_role(const Reader& r, const json::value& v, const std::string& path, const RoleContext& ctx) {
  auto o = r.object(v, path);
  if (!o) return std::unexpected(o.error());
  auto kind_v = r.required(**o, path, "role", "what this host is: front-end-standard, front-end-enterprise, "
                                              "director, reverse-proxy or custom");
  if (!kind_v) return std::unexpected(kind_v.error());
  auto kind = r.choice(**kind_v, member_path(path, "role"),
                       {"front-end-standard", "front-end-enterprise", "director", "reverse-proxy", "custom"});
  if (!kind) return std::unexpected(kind.error());
  if (auto keys = check_keys(r, v, path, *kind); !keys) return std::unexpected(keys.error());
  Role role;
  role.kind = *kind;
  if (auto id = read_identity(r, **o, path, role, ctx); !id) return std::unexpected(id.error());
  auto vars = role_variables(r, **o, path, *kind, ctx);
  if (!vars) return std::unexpected(vars.error());
  auto templates = role_templates(r, **o, path, *kind);
  if (!templates) return std::unexpected(templates.error());
  role.purposes.reserve(templates->size());  // no spare capacity: 10,000 purposes grown one by one left 0.9 MB unused
  for (const auto& t : *templates) {
    auto names = expand_purpose(r, t, *vars, path);
    if (!names) return std::unexpected(names.error());
    if (names->names.empty() && (role.layout == Layout::Separate || templates->size() == 1))
      return r.fail(path, fmt::format("purpose {} gets no names from this role, so its own certificate would "
                                      "have none: every template it uses is empty (set the fields it needs, "
                                      "or override it with \"names\")", t.purpose));
    role.purposes.push_back(std::move(*names));
  }
  if (std::all_of(role.purposes.begin(), role.purposes.end(), [](const auto& p) { return p.names.empty(); }))
    return r.fail(path, "this role gives no names to any purpose; set the fields its templates use");
  if (auto it = vars->find(role.kind == "reverse-proxy" ? "web_external" : "pool_fqdn");
      role.kind != "custom" && it != vars->end() && !it->second.empty())
    role.primary_name = it->second.front().text;
  return role;
}

Result<void> check_unique(const Reader& r, const std::vector<Role>& roles, const std::string& path) {
  const Role& last = roles.back();
  for (size_t i = 0; i + 1 < roles.size(); ++i) {
    if (roles[i].id == last.id)
      return r.fail(member_path(path, "id"), fmt::format("two roles have the id '{}' (the other is roles[{}]); "
                                                         "give one an \"id\" of its own", last.id, i));
    for (const auto& p : last.purposes)
      for (const auto& q : roles[i].purposes)
        if (p.purpose == q.purpose)
          return r.fail(path, fmt::format("purpose {} is already served by role '{}' (roles[{}]); a host binds "
                                          "each purpose once", p.purpose, roles[i].id, i));
  }
  return ok();
}

}  // namespace

Result<std::vector<Role>> read_roles(const Reader& r, const json::value& v, const RoleContext& ctx) {
  auto list = r.array(v, "roles");
  if (!list) return std::unexpected(list.error());
  if ((*list)->empty())
    return r.fail("roles", "is empty; give at least one role, e.g. {\"role\": \"front-end-standard\", ...}");
  std::vector<Role> roles;
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const std::string path = element_path("roles", i);
    auto role = read_role(r, (**list)[i], path, ctx);
    if (!role) return std::unexpected(role.error());
    roles.push_back(std::move(*role));
    if (auto unique = check_unique(r, roles, path); !unique) return std::unexpected(unique.error());
  }
  return roles;
}

}  // namespace certagent::policy
