#include "policy/parse_variables.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace certagent::policy {
namespace {

std::vector<VariableValue> sip_domain_values(const std::vector<std::string>& domains) {
  std::vector<VariableValue> out;
  for (size_t i = 0; i < domains.size(); ++i) out.push_back({domains[i], element_path("sip_domains", i)});
  return out;
}

Result<std::vector<VariableValue>> optional_names(const Reader& r, const json::object& o, const std::string& path,
                                                  std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::vector<VariableValue>{};
  return read_name_values(r, *v, member_path(path, key));
}

Result<std::vector<VariableValue>> autodiscover_domains(const Reader& r, const json::object& role,
                                                        const std::string& path, const RoleContext& ctx) {
  const std::string at = member_path(path, "autodiscover");
  const json::value* v = role.if_contains("autodiscover");
  if (v && v->is_array()) {
    auto domains = read_name_values(r, *v, at);
    if (!domains) return domains;
    for (const auto& d : *domains)
      for (std::string_view prefix : {"lyncdiscover.", "lyncdiscoverinternal."})
        if (d.text.starts_with(prefix))
          return r.fail(d.origin, fmt::format("list the domain '{}' itself: certagent adds both "
                                              "lyncdiscover. and lyncdiscoverinternal. to each",
                                              d.text.substr(prefix.size())));
    return domains;
  }
  if (v && !(v->is_string() && v->get_string() == "all-sip-domains")) {
    std::string found = v->is_string() ? fmt::format("'{}'", std::string_view(v->get_string())) : std::string(json_kind(*v));
    return r.fail(at, fmt::format("expected \"all-sip-domains\" or an array of domains such as "
                                  "[\"contoso.com\"], found {}", found));
  }
  if (!ctx.sip_domains)
    return r.fail("", fmt::format("missing required key 'sip_domains' (the Lync SIP domains, e.g. "
                                  "[\"contoso.com\"]): {} takes its Autodiscover names lyncdiscover.<d> from "
                                  "them; or give the role an explicit \"autodiscover\" list",
                                  path));
  if (ctx.sip_domains->empty())
    return r.fail("sip_domains", fmt::format("is empty, but {} uses \"all-sip-domains\"; list at least one "
                                             "SIP domain (a Lync deployment has one), or give the role "
                                             "\"autodiscover\": [] for no Autodiscover names",
                                             path));
  return sip_domain_values(*ctx.sip_domains);
}

Result<void> set_web_services(const Reader& r, const json::object& role, const std::string& path,
                              const std::string& kind, Variables& vars) {
  const std::string at = member_path(path, "web_services");
  const json::value* v = role.if_contains("web_services");
  static const json::object empty;
  const json::object* o = &empty;
  if (v) {
    auto obj = r.object(*v, at, {"internal", "external"});
    if (!obj) return std::unexpected(obj.error());
    o = *obj;
  }
  if (kind == "reverse-proxy" && !o->contains("external"))
    return r.fail(v ? at : path, "missing required key 'web_services.external': the external web services "
                                 "FQDN(s) of the pools this reverse proxy publishes");
  if (kind == "reverse-proxy" && o->contains("internal"))
    return r.fail(member_path(at, "internal"), "a reverse proxy publishes only external web services",
                  Anchor::Key);
  auto internal = optional_names(r, *o, at, "internal");
  auto external = optional_names(r, *o, at, "external");
  if (!internal) return std::unexpected(internal.error());
  if (!external) return std::unexpected(external.error());
  if (internal->empty() && kind != "reverse-proxy") *internal = vars["pool_fqdn"];  // Topology Builder's default
  vars["web_internal"] = std::move(*internal);
  vars["web_external"] = std::move(*external);
  return ok();
}

Result<void> set_simple_urls(const Reader& r, const json::object& role, const std::string& path,
                             const std::string& kind, Variables& vars) {
  const std::string at = member_path(path, "simple_urls");
  const json::value* v = role.if_contains("simple_urls");
  for (const char* name : {"meet", "dialin", "admin"}) vars[name] = {};
  if (!v) return ok();
  auto o = kind == "reverse-proxy" ? r.object(*v, at, {"meet", "dialin"}) : r.object(*v, at, {"meet", "dialin", "admin"});
  if (!o) return std::unexpected(o.error());
  for (const char* name : {"meet", "dialin", "admin"}) {
    auto values = optional_names(r, **o, at, name);
    if (!values) return std::unexpected(values.error());
    vars[name] = std::move(*values);
  }
  return ok();
}

Result<void> set_server_and_pool(const Reader& r, const json::object& role, const std::string& path,
                                 const std::string& kind, Variables& vars) {
  const bool proxy = kind == "reverse-proxy";
  const json::value* server = role.if_contains("server_fqdn");
  if (!server && !proxy)
    return r.fail(path, "missing required key 'server_fqdn' (this server's FQDN, e.g. \"fe01.contoso.net\")");
  auto server_v = server ? read_name_values(r, *server, member_path(path, "server_fqdn"))
                         : Result<std::vector<VariableValue>>{};
  if (!server_v) return std::unexpected(server_v.error());
  if (server && server->is_array())
    return r.fail(member_path(path, "server_fqdn"), "is one FQDN, not a list: the server this policy runs on");
  vars["server_fqdn"] = *server_v;
  if (proxy) return ok();
  const json::value* pool = role.if_contains("pool_fqdn");
  if (!pool && kind == "front-end-enterprise")
    return r.fail(path, "missing required key 'pool_fqdn' (the Enterprise pool's FQDN, e.g. \"pool01.contoso.net\"; "
                        "for a single server use \"role\": \"front-end-standard\")");
  if (!pool) {
    vars["pool_fqdn"] = *server_v;  // a Standard Edition server or a lone Director is its own pool
    return ok();
  }
  const std::string at = member_path(path, "pool_fqdn");
  if (pool->is_array()) return r.fail(at, "is one FQDN, not a list: the pool this server belongs to");
  auto pool_v = read_name_values(r, *pool, at);
  if (!pool_v) return std::unexpected(pool_v.error());
  if (kind == "front-end-enterprise" && pool_v->front().text == server_v->front().text)
    return r.fail(at, "equals server_fqdn; an Enterprise pool's FQDN differs from its members' names "
                      "(for a single server use \"role\": \"front-end-standard\")");
  vars["pool_fqdn"] = std::move(*pool_v);
  return ok();
}

}  // namespace

Result<std::vector<VariableValue>> read_name_values(const Reader& r, const json::value& v, const std::string& path) {
  auto names = r.dns_names(v, path);
  if (!names) return std::unexpected(names.error());
  std::vector<VariableValue> out;
  for (size_t i = 0; i < names->size(); ++i)
    out.push_back({(*names)[i], v.is_array() ? element_path(path, i) : path});
  return out;
}

Result<Variables> read_variables(const Reader& r, const json::value& v, const std::string& path) {
  auto o = r.object(v, path);
  if (!o) return std::unexpected(o.error());
  Variables vars;
  for (const auto& member : **o) {
    const std::string at = member_path(path, member.key());
    if (!is_variable_name(member.key()))
      return r.fail(at, "a variable name is lower-case letters, digits and '_', starting with a letter or '_'",
                    Anchor::Key);
    auto values = read_name_values(r, member.value(), at);
    if (!values) return std::unexpected(values.error());
    vars[std::string(member.key())] = std::move(*values);
  }
  return vars;
}

Variables custom_variables(const RoleContext& ctx) {
  Variables vars = ctx.variables;
  if (!vars.contains("sip_domains"))
    vars["sip_domains"] = sip_domain_values(ctx.sip_domains.value_or(std::vector<std::string>{}));
  return vars;
}

Result<Variables> lync_variables(const Reader& r, const json::object& role, const std::string& path,
                                 const std::string& kind, const RoleContext& ctx) {
  Variables vars = ctx.variables;
  for (const char* builtin : {"sip_domains", "autodiscover_domains", "pool_fqdn", "server_fqdn", "meet", "dialin",
                              "admin", "web_internal", "web_external"})
    if (vars.contains(builtin))
      return r.fail(member_path("variables", builtin),
                    fmt::format("'{}' is set by the Lync roles themselves; pick another variable name", builtin),
                    Anchor::Key);
  vars["sip_domains"] = sip_domain_values(ctx.sip_domains.value_or(std::vector<std::string>{}));
  if (auto s = set_server_and_pool(r, role, path, kind, vars); !s) return std::unexpected(s.error());
  if (auto s = set_simple_urls(r, role, path, kind, vars); !s) return std::unexpected(s.error());
  if (auto s = set_web_services(r, role, path, kind, vars); !s) return std::unexpected(s.error());
  auto domains = autodiscover_domains(r, role, path, ctx);
  if (!domains) return std::unexpected(domains.error());
  vars["autodiscover_domains"] = std::move(*domains);
  return vars;
}

Result<void> add_role_variables(const Reader& r, const json::object& role, const std::string& path,
                                Variables& vars) {
  const json::value* v = role.if_contains("variables");
  if (!v) return ok();
  auto own = read_variables(r, *v, member_path(path, "variables"));
  if (!own) return std::unexpected(own.error());
  for (auto& [name, values] : *own) {
    if (vars.contains(name))
      return r.fail(member_path(member_path(path, "variables"), name),
                    fmt::format("'{}' is already set (by the role's fields or the top-level \"variables\"); "
                                "pick another name", name), Anchor::Key);
    vars[name] = std::move(values);
  }
  return ok();
}

}  // namespace certagent::policy
