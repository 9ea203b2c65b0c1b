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
  auto top = r.object(doc, "", {"ca", "key", "renewal", "challenge", "sip_domains", "variables", "roles", "purposes",
                                  "pool"});
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
    auto challenges = read_challenges(r, *v, "challenge");
    if (!challenges) return std::unexpected(challenges.error());
    p.challenges = std::move(*challenges);
  } else {
    p.challenges.push_back(Challenge{});  // http-01 on :80
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
  if (const auto* v = (*top)->if_contains("pool")) {
    auto pool = read_pool(r, *v, "pool", p.roles);
    if (!pool) return std::unexpected(pool.error());
    p.pool = std::move(*pool);
  }
  if (auto one = check_one_profile_per_certificate(p); !one) return std::unexpected(one.error());
  if (auto fits = check_name_limit(r, **top, p); !fits) return std::unexpected(fits.error());
  if (auto covered = check_challenge_coverage(r, p); !covered) return std::unexpected(covered.error());
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
