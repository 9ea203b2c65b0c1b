#include "policy/parse.hpp"
#include "common/host_port.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "policy/json_text.hpp"
#include "common/dns_name.hpp"
#include "policy/parse_internal.hpp"

namespace certagent::policy {
namespace {

template <class T>
Result<std::optional<T>> optional_field(const json::object& o, std::string_view path, std::string_view key,
                                        auto&& read) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::optional<T>{};
  auto value = read(*v, member_path(path, key));
  if (!value) return std::unexpected(value.error());
  return std::optional<T>(std::move(*value));
}

Result<ExternalAccountBinding> read_eab(const Reader& r, const json::value& v, const std::string& path) {
  auto o = r.object(v, path, {"key_id", "mac_key_file"});
  if (!o) return std::unexpected(o.error());
  auto kid = r.required(**o, path, "key_id", "the key identifier the CA gave you");
  if (!kid) return std::unexpected(kid.error());
  auto file = r.required(**o, path, "mac_key_file", "the file holding the base64url MAC key; never inline it");
  if (!file) return std::unexpected(file.error());
  auto kid_s = r.string(**kid, member_path(path, "key_id"));
  if (!kid_s) return std::unexpected(kid_s.error());
  auto file_s = r.absolute_path(**file, member_path(path, "mac_key_file"));
  if (!file_s) return std::unexpected(file_s.error());
  return ExternalAccountBinding{*kid_s, *file_s};
}

Result<std::vector<std::string>> read_contacts(const Reader& r, const json::value& v, const std::string& path) {
  auto list = r.strings(v, path);
  if (!list) return list;
  for (size_t i = 0; i < list->size(); ++i)
    if (!(*list)[i].starts_with("mailto:"))
      return r.fail(v.is_array() ? element_path(path, i) : path,
                    fmt::format("'{}' is not a contact URL; write \"mailto:{}\"", (*list)[i], (*list)[i]));
  return list;
}

Result<int> read_concurrency(const Reader& r, const json::value& v, const std::string& path) {
  const std::string hint = fmt::format("write a whole number of orders at once from 1 to {}, e.g. 4 (the default)",
                                       kMaxConcurrency);
  if (!v.is_int64() && !v.is_uint64())
    return r.fail(path, fmt::format("{} is not a number of orders; {}", json_kind(v), hint));
  const auto n = v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), 1u << 30));
  if (n < 1 || n > kMaxConcurrency) return r.fail(path, fmt::format("{} orders at once is out of range; {}", n, hint));
  return static_cast<int>(n);
}

Result<int> read_max_names(const Reader& r, const json::value& v, const std::string& path) {
  const std::string hint = fmt::format("write the most names the CA takes on one certificate, from 1 to {} "
                                       "(default {})", kMaxMaxNames, kDefaultMaxNames);
  if (!v.is_int64() && !v.is_uint64()) return r.fail(path, fmt::format("{} is not a number of names; {}", json_kind(v), hint));
  const auto n = v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), 1u << 30));
  if (n < 1 || n > kMaxMaxNames) return r.fail(path, fmt::format("{} names is out of range; {}", n, hint));
  return static_cast<int>(n);
}

Result<CaConfig> read_ca(const Reader& r, const json::value& v, const std::string& path) {
  auto o = r.object(v, path,
                    {"directory", "trust_bundle", "eab", "contacts", "preferred_chain", "profile", "concurrency",
                     "max_names"});
  if (!o) return std::unexpected(o.error());
  CaConfig ca;
  auto dir = r.required(**o, path, "directory", "the CA's ACME directory URL, e.g. \"https://ca.contoso.net/acme/directory\"");
  if (!dir) return std::unexpected(dir.error());
  auto url = r.string(**dir, member_path(path, "directory"));
  if (!url) return std::unexpected(url.error());
  if (!url->starts_with("https://") || url->size() <= 8)
    return r.fail(member_path(path, "directory"),
                  fmt::format("'{}' is not an https:// URL; ACME directories are served over verified TLS", *url));
  ca.directory_url = *url;
  auto str = [&](const json::value& x, const std::string& p) { return r.string(x, p); };
  auto abs = [&](const json::value& x, const std::string& p) { return r.absolute_path(x, p); };
  auto bundle = optional_field<std::string>(**o, path, "trust_bundle", abs);
  auto eab = optional_field<ExternalAccountBinding>(**o, path, "eab",
                                                    [&](const json::value& x, const std::string& p) { return read_eab(r, x, p); });
  auto contacts = optional_field<std::vector<std::string>>(
      **o, path, "contacts", [&](const json::value& x, const std::string& p) { return read_contacts(r, x, p); });
  auto chain = optional_field<std::string>(**o, path, "preferred_chain", str);
  auto profile = optional_field<ProfileChoice>(
      **o, path, "profile", [&](const json::value& x, const std::string& p) { return r.profile(x, p); });
  auto concurrency = optional_field<int>(
      **o, path, "concurrency", [&](const json::value& x, const std::string& p) { return read_concurrency(r, x, p); });
  auto max_names = optional_field<int>(
      **o, path, "max_names", [&](const json::value& x, const std::string& p) { return read_max_names(r, x, p); });
  for (const Error* e : {bundle ? nullptr : &bundle.error(), eab ? nullptr : &eab.error(),
                         contacts ? nullptr : &contacts.error(), chain ? nullptr : &chain.error(),
                         profile ? nullptr : &profile.error(), concurrency ? nullptr : &concurrency.error(),
                         max_names ? nullptr : &max_names.error()})
    if (e) return std::unexpected(*e);
  ca.trust_bundle = *bundle;
  ca.eab = *eab;
  ca.contacts = contacts->value_or(std::vector<std::string>{});
  ca.preferred_chain = *chain;
  ca.profile = *profile;
  ca.concurrency = *concurrency;
  ca.max_names = *max_names;
  return ca;
}

Result<Renewal> read_renewal(const Reader& r, const json::value& v, const std::string& path) {
  auto s = r.string(v, path);
  if (!s) return std::unexpected(s.error());
  Renewal out;
  if (*s == "auto") return out;
  if (s->back() == '%') {
    int percent = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size() - 1, percent);
    if (ec == std::errc{} && end == s->data() + s->size() - 1 && percent >= 1 && percent <= 99) {
      out.mode = Renewal::Mode::RemainingFraction;
      out.remaining_fraction = percent / 100.0;
      return out;
    }
  } else if (auto d = parse_duration(*s); d && d->count() > 0) {
    out.mode = Renewal::Mode::BeforeExpiry;
    out.before_expiry = *d;
    return out;
  }
  return r.fail(path, fmt::format("'{}' is not a renewal setting; write \"auto\" (when a third of the "
                                  "lifetime remains), a percentage of the lifetime that remains "
                                  "(\"33%\", 1 to 99) or a time before expiry (\"30d\", \"720h\")",
                                  *s));
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
  auto key = r.required(**o, path, "key_file", "the TSIG key file, as `tsig-keygen` writes it");
  if (!key) return std::unexpected(key.error());
  auto k = r.absolute_path(**key, member_path(path, "key_file"));
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
  auto hook = r.required(o, path, "hook", "the executable that publishes and removes the _acme-challenge TXT record, "
                       "or \"rfc2136\": {\"server\": ..., \"key_file\": ...}");
  if (!hook) return std::unexpected(hook.error());
  auto h = r.absolute_path(**hook, member_path(path, "hook"));
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

Result<Challenge> read_challenge(const Reader& r, const json::value& v, const std::string& path) {
  auto o = r.object(v, path, {"type", "listen", "webroot", "hook", "rfc2136", "resolver", "issuer_domain"});
  if (!o) return std::unexpected(o.error());
  Challenge c;
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
  return c;
}

Result<KeyType> read_key(const Reader& r, const json::value& v, const std::string& path) {
  auto s = r.string(v, path);
  if (!s) return std::unexpected(s.error());
  if (auto k = parse_key_type(*s)) return *k;
  return r.fail(path, fmt::format("'{}' is not a key type; use one of {}", *s, kKeyTypeChoices));
}

Result<RoleContext> read_context(const Reader& r, const json::object& top) {
  RoleContext ctx;
  if (const auto* k = top.if_contains("key")) {
    auto key = read_key(r, *k, "key");
    if (!key) return std::unexpected(key.error());
    ctx.key = *key;
  }
  if (const auto* d = top.if_contains("sip_domains")) {
    auto list = r.array(*d, "sip_domains");
    if (!list) return std::unexpected(list.error());
    auto domains = r.dns_names(*d, "sip_domains");
    if (!domains) return std::unexpected(domains.error());
    ctx.sip_domains = std::move(*domains);
  }
  if (const auto* v = top.if_contains("variables")) {
    auto vars = read_variables(r, *v, "variables");
    if (!vars) return std::unexpected(vars.error());
    ctx.variables = std::move(*vars);
  }
  return ctx;
}

Result<Policy> read_policy(const Reader& r, const json::value& doc) {
  auto top = r.object(doc, "", {"ca", "key", "renewal", "challenge", "sip_domains", "variables", "roles", "purposes"});
  if (!top) return std::unexpected(top.error());
  Policy p;
  p.file = std::string(r.file());
  auto ca = r.required(**top, "", "ca", "the CA: {\"directory\": \"https://.../directory\"}");
  if (!ca) return std::unexpected(ca.error());
  auto ca_config = read_ca(r, **ca, "ca");
  if (!ca_config) return std::unexpected(ca_config.error());
  p.ca = std::move(*ca_config);
  if (const auto* v = (*top)->if_contains("renewal")) {
    auto renewal = read_renewal(r, *v, "renewal");
    if (!renewal) return std::unexpected(renewal.error());
    p.renewal = *renewal;
  }
  if (const auto* v = (*top)->if_contains("challenge")) {
    auto challenge = read_challenge(r, *v, "challenge");
    if (!challenge) return std::unexpected(challenge.error());
    p.challenge = *challenge;
  }
  auto ctx = read_context(r, **top);
  if (!ctx) return std::unexpected(ctx.error());
  p.key = ctx->key;
  p.sip_domains = ctx->sip_domains.value_or(std::vector<std::string>{});
  auto roles_v = r.required(**top, "", "roles", "the roles this host plays, e.g. [{\"role\": \"front-end-standard\", ...}]");
  if (!roles_v) return std::unexpected(roles_v.error());
  auto roles = read_roles(r, **roles_v, *ctx);
  if (!roles) return std::unexpected(roles.error());
  p.roles = std::move(*roles);
  if (const auto* v = (*top)->if_contains("purposes")) {
    auto outputs = read_outputs(r, *v, p.roles);
    if (!outputs) return std::unexpected(outputs.error());
    p.outputs = std::move(*outputs);
  }
  if (auto one = check_one_profile_per_certificate(p); !one) return std::unexpected(one.error());
  if (auto fits = check_name_limit(r, **top, p); !fits) return std::unexpected(fits.error());
  return p;
}

}  // namespace

Result<Policy> parse_policy(std::string_view text, std::string_view file) {
  auto doc = parse_json(text, file);
  if (!doc) return std::unexpected(doc.error());
  if (auto dup = check_duplicate_keys(text, file); !dup) return std::unexpected(dup.error());
  return read_policy(Reader(text, file), *doc);
}

}  // namespace certagent::policy
