// "pool": several servers, one certificate, coordinated through etcd (docs/pool.md).
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/host_port.hpp"
#include "common/text.hpp"
#include "policy/parse_internal.hpp"

namespace certagent::policy {
namespace {

constexpr std::chrono::seconds kMinLeaseTtl{5};  // etcd refuses (or rounds up) shorter leases
constexpr std::chrono::seconds kMaxLeaseTtl{300};

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool is_member_char(char c) { return is_name_char(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_'; }

Result<std::string> read_word(const Reader& r, const json::value& v, const std::string& path, bool member) {
  auto s = r.string(v, path);
  if (!s) return s;
  const bool ok = !s->empty() && s->size() <= 63 &&
                  std::all_of(s->begin(), s->end(), member ? is_member_char : is_name_char);
  if (!ok)
    return r.fail(path, member ? fmt::format("'{}' is not a member name; write 1 to 63 letters, digits, '.', '_' or "
                                             "'-', e.g. the server's short name \"fe01\"", *s)
                               : fmt::format("'{}' is not a pool name; write 1 to 63 lower-case letters, digits or "
                                             "'-', e.g. \"fe-pool\"", *s));
  return s;
}

// "https://HOST:PORT" only: etcd holds the pool's sealed certificates and who leads; the
// client (protocol/etcd/client.hpp) verifies the members' TLS and shows its client certificate.
Result<std::vector<std::string>> read_endpoints(const Reader& r, const json::value& v, const std::string& path) {
  auto list = r.array(v, path);
  if (!list) return std::unexpected(list.error());
  if ((*list)->empty()) return r.fail(path, "is empty; list every member of the etcd cluster, e.g. [\"https://etcd1.contoso.net:2379\"]");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const std::string at = element_path(path, i);
    auto s = r.string((**list)[i], at);
    if (!s) return std::unexpected(s.error());
    if (s->starts_with("http://"))
      return r.fail(at, fmt::format("'{}' is plain http://; etcd holds the pool's certificates and who leads: write "
                                    "\"https://{}\" with \"trust_bundle\" (and \"client_certificate\", "
                                    "\"client_key\" for etcd's --client-cert-auth)", *s, s->substr(7)));
    const std::string_view rest = std::string_view(*s).substr(s->starts_with("https://") ? 8 : 0);
    auto hp = s->starts_with("https://") && rest.find('/') == std::string_view::npos
                  ? parse_host_port(rest)
                  : Result<HostPort>{std::unexpected(Error{})};
    if (!hp || hp->host.empty() || hp->port == 0)
      return r.fail(at, fmt::format("'{}' is not an etcd endpoint; write \"https://HOST:PORT\", e.g. "
                                    "\"https://etcd1.contoso.net:2379\"", *s));
    if (std::find(out.begin(), out.end(), *s) != out.end()) return r.fail(at, fmt::format("'{}' is listed twice", *s));
    out.push_back(*s);
  }
  return out;
}

Result<EtcdEndpoints> read_etcd(const Reader& r, const json::value& v, const std::string& path) {
  auto o = r.object(v, path, {"endpoints", "trust_bundle", "client_certificate", "client_key"});
  if (!o) return std::unexpected(o.error());
  EtcdEndpoints out;
  auto eps = r.required(**o, path, "endpoints", "the etcd members, e.g. [\"https://etcd1.contoso.net:2379\", ...]");
  if (!eps) return std::unexpected(eps.error());
  auto list = read_endpoints(r, **eps, member_path(path, "endpoints"));
  if (!list) return std::unexpected(list.error());
  out.endpoints = std::move(*list);
  auto b = r.required_path(**o, path, "trust_bundle", "the PEM file of the CA that signed the etcd members' "
                                                     "certificates (etcd's --trusted-ca-file)");
  if (!b) return std::unexpected(b.error());
  out.trust_bundle = *b;
  for (auto [key, field] : {std::pair{"client_certificate", &out.client_certificate},
                            std::pair{"client_key", &out.client_key}})
    if (const auto* x = (*o)->if_contains(key)) {
      auto file = r.absolute_path(*x, member_path(path, key));
      if (!file) return std::unexpected(file.error());
      *field = *file;
    }
  if (out.client_certificate.has_value() != out.client_key.has_value())
    return r.fail(member_path(path, out.client_certificate ? "client_certificate" : "client_key"),
                  "give both \"client_certificate\" and \"client_key\" (the PEM files etcd's --client-cert-auth "
                  "checks), or neither", Anchor::Key);
  return out;
}

Result<std::string> read_prefix(const Reader& r, const json::value& v, const std::string& path) {
  auto s = r.string(v, path);
  if (!s) return s;
  const bool ok = s->size() >= 2 && s->front() == '/' && s->back() != '/' &&
                  std::all_of(s->begin(), s->end(), [](char c) { return is_member_char(c) || c == '/'; }) &&
                  s->find("//") == std::string::npos;
  if (!ok)
    return r.fail(path, fmt::format("'{}' is not a key prefix; write '/' and letters, digits, '.', '_', '-' or '/', "
                                    "without a trailing '/', e.g. \"/certagent/fe-pool\"", *s));
  return s;
}

// The ids a role's certificates can have: the role's (shared) and "<role>-<purpose>" (separate).
std::set<std::string> certificate_ids(const std::vector<Role>& roles) {
  std::set<std::string> ids;
  for (const auto& role : roles) {
    ids.insert(role.id);
    for (const auto& p : role.purposes) ids.insert(role.id + "-" + ascii_lower(p.purpose));
  }
  return ids;
}

Result<std::vector<std::string>> read_pool_certificates(const Reader& r, const json::value& v, const std::string& path,
                                                        const std::vector<Role>& roles) {
  auto list = r.array(v, path);
  if (!list) return std::unexpected(list.error());
  const auto ids = certificate_ids(roles);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const std::string at = element_path(path, i);
    auto s = r.string((**list)[i], at);
    if (!s) return std::unexpected(s.error());
    if (!ids.contains(*s))
      return r.fail(at, fmt::format("no certificate of this policy has the id '{}'; `certagent plan` lists them "
                                    "(a role's id, or \"<role id>-<purpose in lower case>\" when its layout is separate)", *s));
    if (std::find(out.begin(), out.end(), *s) != out.end()) return r.fail(at, fmt::format("'{}' is listed twice", *s));
    out.push_back(*s);
  }
  return out;
}

}  // namespace

Result<Pool> read_pool(const Reader& r, const json::value& v, const std::string& path, const std::vector<Role>& roles) {
  auto o = r.object(v, path, {"name", "member", "etcd", "prefix", "key_file", "certificates", "lease_ttl"});
  if (!o) return std::unexpected(o.error());
  Pool pool;
  auto name = r.required(**o, path, "name", "the pool's name, the same on every member, e.g. \"fe-pool\"");
  if (!name) return std::unexpected(name.error());
  auto n = read_word(r, **name, member_path(path, "name"), false);
  if (!n) return std::unexpected(n.error());
  pool.name = *n;
  auto member = r.required(**o, path, "member", "this server's name in the pool, different on every member, e.g. \"fe01\"");
  if (!member) return std::unexpected(member.error());
  auto m = read_word(r, **member, member_path(path, "member"), true);
  if (!m) return std::unexpected(m.error());
  pool.member = *m;
  auto etcd = r.required(**o, path, "etcd", "the etcd cluster: {\"endpoints\": [...], \"trust_bundle\": ..., "
                                            "\"client_certificate\": ..., \"client_key\": ...}");
  if (!etcd) return std::unexpected(etcd.error());
  auto e = read_etcd(r, **etcd, member_path(path, "etcd"));
  if (!e) return std::unexpected(e.error());
  pool.etcd = std::move(*e);
  pool.prefix = "/certagent/" + pool.name;
  if (const auto* p = (*o)->if_contains("prefix")) {
    auto prefix = read_prefix(r, *p, member_path(path, "prefix"));
    if (!prefix) return std::unexpected(prefix.error());
    pool.prefix = *prefix;
  }
  auto k = r.required_path(**o, path, "key_file", "the file holding the pool's encryption key, the same on every member "
                                                "(`openssl rand -base64 32`, mode 0600)");
  if (!k) return std::unexpected(k.error());
  pool.key_file = *k;
  if (const auto* c = (*o)->if_contains("certificates")) {
    auto list = read_pool_certificates(r, *c, member_path(path, "certificates"), roles);
    if (!list) return std::unexpected(list.error());
    pool.certificates = std::move(*list);
  }
  if (const auto* t = (*o)->if_contains("lease_ttl")) {
    const std::string at = member_path(path, "lease_ttl");
    auto d = r.duration(*t, at);
    if (!d) return std::unexpected(d.error());
    if (*d < kMinLeaseTtl || *d > kMaxLeaseTtl)
      return r.fail(at, fmt::format("{} s is out of range; write from \"5s\" to \"5m\" (default \"10s\"): how long a "
                                    "member that died while leading keeps the others waiting", d->count()));
    pool.lease_ttl = *d;
  }
  return pool;
}

}  // namespace certagent::policy
