#include "common/escape.hpp"
#include "protocol/acme/order.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "common/dns_name.hpp"
#include "protocol/acme/json.hpp"
#include "protocol/acme/ari.hpp"
#include "common/text.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

constexpr std::array kOrderStates = {"pending", "ready", "processing", "valid", "invalid"};
constexpr std::array kAuthzStates = {"pending", "valid", "invalid", "deactivated", "expired", "revoked"};
constexpr std::array kChallengeStates = {"pending", "processing", "valid", "invalid"};

template <size_t N>
Result<std::string> status_in(const json::object& obj, const std::array<const char*, N>& allowed,
                              std::string_view what) {
  auto status = required_string(obj, "status", what);
  if (!status) return status;
  for (const char* s : allowed)
    if (*status == s) return status;
  return fail(ErrorKind::Protocol, "the " + std::string(what) + " has an unknown status '" + escape_control(*status, 40) + "'");
}

std::optional<Problem> problem_member(const json::object& obj) {
  const auto* e = obj.if_contains("error");
  if (e == nullptr || !e->is_object()) return std::nullopt;
  return parse_problem(e->as_object());
}

Result<Identifier> parse_identifier(const json::value& v, std::string_view what) {
  if (!v.is_object()) return fail(ErrorKind::Protocol, "the " + std::string(what) + " has an identifier that is not an object");
  auto type = required_string(v.as_object(), "type", "identifier");
  auto value = required_string(v.as_object(), "value", "identifier");
  if (!type) return std::unexpected(type.error());
  if (!value) return std::unexpected(value.error());
  return Identifier{std::move(*type), std::move(*value)};
}

Result<std::vector<Identifier>> parse_identifiers(const json::object& obj) {
  std::vector<Identifier> out;
  const auto* ids = obj.if_contains("identifiers");
  if (ids == nullptr || !ids->is_array()) return fail(ErrorKind::Protocol, "the order has no \"identifiers\" array");
  if (ids->as_array().size() > kMaxOrderIdentifiers)
    return fail(ErrorKind::Protocol, "the order has more than " + std::to_string(kMaxOrderIdentifiers) + " identifiers");
  for (const auto& v : ids->as_array()) {
    auto id = parse_identifier(v, "order");
    if (!id) return std::unexpected(id.error());
    out.push_back(std::move(*id));
  }
  return out;
}

// The URLs an order hands us to follow (§7.1.3).
Result<void> check_order_urls(const Order& order) {
  for (const auto& a : order.authorizations)
    if (auto u = url_from_ca(a, "authorization URL"); !u) return std::unexpected(u.error());
  if (auto u = url_from_ca(order.finalize, "finalize URL"); !u) return std::unexpected(u.error());
  if (order.certificate.empty()) return ok();
  if (auto u = url_from_ca(order.certificate, "certificate URL"); !u) return std::unexpected(u.error());
  return ok();
}

Result<Challenge> challenge_of(const json::value& v) {
  if (!v.is_object()) return fail(ErrorKind::Protocol, "a challenge is not an object");
  return parse_challenge(v.as_object());
}

}  // namespace

Result<Challenge> parse_challenge(const json::object& o) {
  Challenge c;
  auto type = required_string(o, "type", "challenge");
  auto url = required_string(o, "url", "challenge");
  if (url) url = url_from_ca(std::move(*url), "challenge URL");
  auto status = status_in(o, kChallengeStates, "challenge");
  if (!type) return std::unexpected(type.error());
  if (!url) return std::unexpected(url.error());
  if (!status) return std::unexpected(status.error());
  c.type = std::move(*type);
  c.url = std::move(*url);
  c.status = std::move(*status);
  c.token = string_member(o, "token").value_or("");
  c.error = problem_member(o);
  if (c.type == "dns-persist-01")
    if (auto fields = parse_dns_persist_fields(o, c); !fields) c.refused = std::move(fields.error());
  return c;
}

Result<Order> parse_order(const json::object& obj, std::string_view url) {
  Order order;
  order.url = url;
  auto status = status_in(obj, kOrderStates, "order");
  if (!status) return std::unexpected(status.error());
  order.status = std::move(*status);
  auto ids = parse_identifiers(obj);
  if (!ids) return std::unexpected(ids.error());
  order.identifiers = std::move(*ids);
  auto authz = string_array(obj, "authorizations", "order", kMaxOrderIdentifiers);
  if (!authz) return std::unexpected(authz.error());
  order.authorizations = std::move(*authz);
  auto finalize = required_string(obj, "finalize", "order");
  if (!finalize) return std::unexpected(finalize.error());
  order.finalize = std::move(*finalize);
  order.certificate = string_member(obj, "certificate").value_or("");
  if (auto urls = check_order_urls(order); !urls) return std::unexpected(urls.error());
  order.profile = string_member(obj, "profile").value_or("");
  order.error = problem_member(obj);
  if (auto expires = string_member(obj, "expires"))
    if (auto t = parse_acme_time(*expires)) order.expires = *t;
  return order;
}

Result<Authorization> parse_authorization(const json::object& obj, std::string_view url) {
  Authorization authz;
  authz.url = url;
  auto status = status_in(obj, kAuthzStates, "authorization");
  if (!status) return std::unexpected(status.error());
  authz.status = std::move(*status);
  const auto* id = obj.if_contains("identifier");
  if (id == nullptr) return fail(ErrorKind::Protocol, "the authorization has no identifier");
  auto identifier = parse_identifier(*id, "authorization");
  if (!identifier) return std::unexpected(identifier.error());
  authz.identifier = std::move(*identifier);
  if (const auto* w = obj.if_contains("wildcard"); w != nullptr && w->is_bool()) authz.wildcard = w->as_bool();
  const auto* chs = obj.if_contains("challenges");
  if (chs == nullptr || !chs->is_array()) return fail(ErrorKind::Protocol, "the authorization has no \"challenges\" array");
  if (chs->as_array().size() > kMaxChallengesPerAuthorization)
    return fail(ErrorKind::Protocol, "the authorization offers more than " +
                                         std::to_string(kMaxChallengesPerAuthorization) + " challenges");
  for (const auto& v : chs->as_array()) {
    auto c = challenge_of(v);
    if (!c) return std::unexpected(c.error());
    authz.challenges.push_back(std::move(*c));
  }
  return authz;
}

std::vector<std::string> normalized_names(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(canonical_dns_name(n));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> identifier_names(const std::vector<Identifier>& ids) {
  std::vector<std::string> names;
  for (const auto& id : ids) names.push_back(id.type == "dns" ? id.value : id.type + ":" + id.value);
  return normalized_names(names);
}

}  // namespace certagent::protocol
