// "challenge": one challenge for every name, or a list of them, each answering for the names it
// selects (docs/policy.md, "challenge" and "A challenge per name").
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

#include "common/dns_name.hpp"
#include "common/host_port.hpp"
#include "policy/challenge_select.hpp"
#include "policy/parse_internal.hpp"
#include "policy/required.hpp"
#include "policy/source.hpp"

namespace certagent::policy {
namespace {

// "names" (exact names, wildcards allowed) and "zones" (no wildcard) of a list entry.
Result<void> read_selectors(const Reader& r, const json::object& o, const std::string& path, Challenge& c) {
  if (const auto* v = o.if_contains("names")) {
    auto names = r.dns_names(*v, member_path(path, "names"));
    if (!names) return std::unexpected(names.error());
    if (names->empty()) return r.fail(member_path(path, "names"), "is empty; list names, or leave the key out");
    for (std::size_t i = 0; i < names->size(); ++i)
      if ((*names)[i].starts_with("*.") && !validates_wildcards(c.type))
        return r.fail(element_path(member_path(path, "names"), i),
                      fmt::format("'{}' is a wildcard, which only DNS can validate: {} cannot; select it with a "
                                  "dns-01 or dns-persist-01 entry", (*names)[i], to_string(c.type)));
    c.names = std::move(*names);
  }
  if (const auto* v = o.if_contains("zones")) {
    auto zones = r.dns_names(*v, member_path(path, "zones"));
    if (!zones) return std::unexpected(zones.error());
    if (zones->empty()) return r.fail(member_path(path, "zones"), "is empty; list zones, or leave the key out");
    for (std::size_t i = 0; i < zones->size(); ++i)
      if ((*zones)[i].starts_with("*."))
        return r.fail(element_path(member_path(path, "zones"), i),
                      fmt::format("'{}' is not a zone; write the zone itself (\"{}\" selects it and every name "
                                  "under it, wildcards included)", (*zones)[i], (*zones)[i].substr(2)));
    c.zones = std::move(*zones);
  }
  return {};
}

Result<std::string> read_listen(const Reader& r, const json::value& v, const std::string& path) {
  auto s = r.string(v, path);
  if (!s) return s;
  auto address = parse_host_port(*s);
  if (!address || address->port == 0)
    return r.fail(path, fmt::format("'{}' is not a listen address; write \"HOST:PORT\", \":PORT\" or "
                                    "\"[IPv6]:PORT\" (http-01 answers on port 80 unless a proxy forwards it)",
                                    *s));
  return s;
}

// The keys each challenge type takes, and how the error says so.
struct ChallengeKeys {
  std::string_view type;
  std::vector<std::string_view> keys;
  std::string_view hint;
};
const std::vector<ChallengeKeys>& challenge_keys() {
  static const std::vector<ChallengeKeys> k{
      {"http-01", {"listen", "webroot"}, "http-01 takes \"listen\" or \"webroot\""},
      {"dns-01", {"hook", "rfc2136"}, "dns-01 takes \"hook\" or \"rfc2136\""},
      {"dns-persist-01", {"resolver", "issuer_domain"}, "dns-persist-01 takes \"resolver\" and \"issuer_domain\""}};
  return k;
}

Result<void> check_challenge_keys(const Reader& r, const json::object& o, const std::string& path,
                                  const ChallengeKeys& allowed) {
  for (const auto& entry : challenge_keys())
    for (std::string_view key : entry.keys)
      if (o.contains(key) && std::find(allowed.keys.begin(), allowed.keys.end(), key) == allowed.keys.end())
        return r.fail(member_path(path, key), fmt::format("'{}' does not apply to {}; {}", key, allowed.type,
                                                          allowed.hint), Anchor::Key);
  return {};
}

Result<void> read_http01(const Reader& r, const json::object& o, const std::string& path, Challenge& c) {
  if (o.contains("listen") && o.contains("webroot"))
    return r.fail(member_path(path, "webroot"), "give either \"listen\" (certagent answers itself) or "
                                                "\"webroot\" (an existing web server answers), not both", Anchor::Key);
  if (const auto* l = o.if_contains("listen")) {
    auto listen = read_listen(r, *l, member_path(path, "listen"));
    if (!listen) return std::unexpected(listen.error());
    c.listen = *listen;
  }
  if (const auto* w = o.if_contains("webroot")) {
    auto root = r.absolute_path(*w, member_path(path, "webroot"));
    if (!root) return std::unexpected(root.error());
    c.webroot = *root;
  }
  return {};
}

Result<std::chrono::seconds> read_bounded_duration(const Reader& r, const json::value& v, const std::string& path,
                                                   std::chrono::seconds max) {
  auto d = r.duration(v, path);
  if (!d) return std::unexpected(d.error());
  if (d->count() < 1 || *d > max)
    return r.fail(path, fmt::format("must be from 1s to {}s", max.count()));
  return d;
}

// dns-01 through RFC 2136: the primary, the TSIG key file, optionally the zone and how long to
// wait for the zone's name servers.
Result<Rfc2136> read_rfc2136(const Reader& r, const json::value& v, const std::string& path) {
  auto o = r.object(v, path, {"server", "key_file", "zone", "nameserver_port", "propagation_timeout",
                              "propagation_interval"});
  if (!o) return std::unexpected(o.error());
  Rfc2136 out;
  auto server = r.required(**o, path, "server", "the zone's primary server, \"IP:PORT\", e.g. \"192.0.2.53:53\"");
  if (!server) return std::unexpected(server.error());
  auto s = r.string(**server, member_path(path, "server"));
  if (!s) return std::unexpected(s.error());
  auto address = parse_host_port(*s);
  if (!address || address->host.empty() || address->port == 0 ||
      address->host.find_first_not_of("0123456789.:abcdefABCDEF") != std::string::npos)
    return r.fail(member_path(path, "server"), fmt::format("'{}' is not a DNS server address; write \"IP:PORT\" or "
                                                           "\"[IPv6]:PORT\" with the primary's IP address, e.g. "
                                                           "\"192.0.2.53:53\"", *s));
  out.server = *s;
  auto k = r.required_path(**o, path, "key_file", "the TSIG key file, as `tsig-keygen` writes it");
  if (!k) return std::unexpected(k.error());
  out.key_file = *k;
  if (const auto* z = (*o)->if_contains("zone")) {
    auto zone = r.dns_name(*z, member_path(path, "zone"));
    if (!zone) return std::unexpected(zone.error());
    out.zone = *zone;
  }
  if (const auto* p = (*o)->if_contains("nameserver_port")) {
    if (!p->is_int64() || p->as_int64() < 1 || p->as_int64() > 65535)
      return r.fail(member_path(path, "nameserver_port"), "must be a port number, 1 to 65535");
    out.nameserver_port = static_cast<int>(p->as_int64());
  }
  if (const auto* t = (*o)->if_contains("propagation_timeout")) {
    auto d = read_bounded_duration(r, *t, member_path(path, "propagation_timeout"), std::chrono::hours(1));
    if (!d) return std::unexpected(d.error());
    out.propagation_timeout = *d;
  }
  if (const auto* t = (*o)->if_contains("propagation_interval")) {
    auto d = read_bounded_duration(r, *t, member_path(path, "propagation_interval"), std::chrono::minutes(1));
    if (!d) return std::unexpected(d.error());
    out.propagation_interval = *d;
  }
  return out;
}

Result<void> read_dns01(const Reader& r, const json::object& o, const std::string& path, Challenge& c) {
  if (o.contains("hook") && o.contains("rfc2136"))
    return r.fail(member_path(path, "rfc2136"), "give either \"hook\" (a program publishes the record) or "
                                                "\"rfc2136\" (certagent updates the zone), not both", Anchor::Key);
  if (const auto* u = o.if_contains("rfc2136")) {
    auto rfc = read_rfc2136(r, *u, member_path(path, "rfc2136"));
    if (!rfc) return std::unexpected(rfc.error());
    c.rfc2136 = std::move(*rfc);
    return {};
  }
  auto h = r.required_path(o, path, "hook", "the executable that publishes and removes the _acme-challenge TXT "
                           "record, or \"rfc2136\": {\"server\": ..., \"key_file\": ...}");
  if (!h) return std::unexpected(h.error());
  c.dns_hook = *h;
  return {};
}

// dns-persist-01 (draft-ietf-acme-dns-persist): no DNS write access; where to read the records.
Result<void> read_dns_persist01(const Reader& r, const json::object& o, const std::string& path, Challenge& c) {
  if (const auto* v = o.if_contains("resolver")) {
    const std::string p = member_path(path, "resolver");
    auto s = r.string(*v, p);
    if (!s) return std::unexpected(s.error());
    auto address = parse_host_port(*s);
    if (!address || address->port == 0 || address->host.empty())
      return r.fail(p, fmt::format("'{}' is not a DNS resolver address; write \"HOST:PORT\" or \"[IPv6]:PORT\", "
                                   "e.g. \"192.0.2.53:53\"", *s));
    c.resolver = *s;
  }
  if (const auto* v = o.if_contains("issuer_domain")) {
    const std::string p = member_path(path, "issuer_domain");
    auto s = r.string(*v, p);
    if (!s) return std::unexpected(s.error());
    auto name = normalize_dns_name(*s);
    if (!name || name->starts_with("*."))
      return r.fail(p, fmt::format("'{}' is not an issuer domain name; write the CA's domain as its directory lists "
                                   "it in meta.caaIdentities, e.g. \"letsencrypt.org\"", *s));
    c.issuer_domain = *name;
  }
  return {};
}

// One challenge; in a list (`in_list`) it may say which names it answers for.
Result<Challenge> read_challenge(const Reader& r, const json::value& v, const std::string& path, bool in_list) {
  if (!in_list && v.is_object() && (v.as_object().contains("names") || v.as_object().contains("zones")))
    return r.fail(member_path(path, v.as_object().contains("names") ? "names" : "zones"),
                  "selects names among several challenges; write \"challenge\" as a list of them, e.g. "
                  "[{\"type\": \"http-01\"}, {\"type\": \"dns-01\", \"rfc2136\": {...}, \"zones\": "
                  "[\"corp.example.com\"]}]", Anchor::Key);
  auto o = in_list ? r.object(v, path, {"type", "listen", "webroot", "hook", "rfc2136", "resolver", "issuer_domain",
                                        "names", "zones"})
                   : r.object(v, path, {"type", "listen", "webroot", "hook", "rfc2136", "resolver", "issuer_domain"});
  if (!o) return std::unexpected(o.error());
  Challenge c;
  c.at = path;
  const json::value* type = (*o)->if_contains("type");
  auto t = type ? r.choice(*type, member_path(path, "type"), {"http-01", "dns-01", "dns-persist-01"})
                : Result<std::string>("http-01");
  if (!t) return std::unexpected(t.error());
  const auto& keys = *std::find_if(challenge_keys().begin(), challenge_keys().end(),
                                   [&](const ChallengeKeys& k) { return k.type == *t; });
  if (auto checked = check_challenge_keys(r, **o, path, keys); !checked) return std::unexpected(checked.error());
  Result<void> read;
  if (*t == "http-01") {
    c.type = Challenge::Type::Http01;
    read = read_http01(r, **o, path, c);
  } else if (*t == "dns-01") {
    c.type = Challenge::Type::Dns01;
    read = read_dns01(r, **o, path, c);
  } else {
    c.type = Challenge::Type::DnsPersist01;
    read = read_dns_persist01(r, **o, path, c);
  }
  if (!read) return std::unexpected(read.error());
  if (in_list)
    if (auto selected = read_selectors(r, **o, path, c); !selected) return std::unexpected(selected.error());
  return c;
}

}  // namespace

Result<std::vector<Challenge>> read_challenges(const Reader& r, const json::value& v, const std::string& path) {
  if (!v.is_array()) {
    auto one = read_challenge(r, v, path, false);
    if (!one) return std::unexpected(one.error());
    return std::vector<Challenge>{std::move(*one)};
  }
  const auto& list = v.as_array();
  if (list.empty())
    return r.fail(path, "is empty; give one challenge, e.g. {\"type\": \"http-01\"}, or a list of them");
  std::vector<Challenge> out;
  const Challenge* by_default = nullptr;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto c = read_challenge(r, list[i], element_path(path, i), true);
    if (!c) return std::unexpected(c.error());
    out.push_back(std::move(*c));
  }
  for (const auto& c : out) {
    if (!c.names.empty() || !c.zones.empty()) continue;
    if (by_default != nullptr)
      return r.fail(c.at, fmt::format("is a second entry without \"names\" or \"zones\" ({} is the first): "
                                      "only one entry may answer for every other name; give this one the names "
                                      "or zones it is for", by_default->at));
    by_default = &c;
  }
  return out;
}

Result<void> check_challenge_coverage(const Reader& r, const Policy& p) {
  for (const auto& cert : required_certificates(p))
    for (const auto& name : cert.names) {
      if (challenge_for(p.challenges, name.name) != nullptr) continue;
      const std::string& at = name.at.empty() ? std::string("roles") : name.at;
      if (name.name.starts_with("*."))
        return r.fail(at, fmt::format("'{}' (certificate '{}') is a wildcard, which only DNS can validate, and no "
                                      "dns-01 or dns-persist-01 challenge answers for it; add one to \"challenge\", "
                                      "e.g. [{{\"type\": \"http-01\"}}, {{\"type\": \"dns-01\", \"rfc2136\": "
                                      "{{...}}, \"zones\": [\"{}\"]}}]",
                                      name.name, cert.id, name.name.substr(2)));
      return r.fail(at, fmt::format("'{}' (certificate '{}') is not selected by any entry of \"challenge\"; add it "
                                    "to an entry's \"names\" or \"zones\", or give one entry neither (the "
                                    "default)", name.name, cert.id));
    }
  return {};
}

}  // namespace certagent::policy
