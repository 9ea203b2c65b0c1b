// The verbs of RFC 8555 §7.4 that create and read orders and authorizations.
#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "common/dns_name.hpp"
#include "protocol/acme/json.hpp"
#include "protocol/acme/order.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

Result<std::vector<std::string>> checked_names(const std::vector<std::string>& names) {
  if (names.empty()) return fail(ErrorKind::Invalid, "an order needs at least one DNS name");
  if (names.size() > kMaxOrderIdentifiers)
    return fail(ErrorKind::Invalid, "an order holds at most " + std::to_string(kMaxOrderIdentifiers) +
                                        " names; " + std::to_string(names.size()) + " were asked for");
  std::vector<std::string> out;
  for (const auto& n : names) {
    auto norm = normalize_dns_name(n);
    if (!norm) return std::unexpected(norm.error());
    out.push_back(std::move(*norm));
  }
  auto sorted = out;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return fail(ErrorKind::Invalid, "the order names a DNS name twice");
  return out;
}

Result<json::object> new_order_payload(const Directory& dir, const NewOrder& request,
                                       const std::vector<std::string>& names) {
  json::array ids;
  for (const auto& n : names) ids.push_back(json::object{{"type", "dns"}, {"value", n}});
  json::object payload{{"identifiers", std::move(ids)}};
  if (!request.profile.empty()) {
    if (std::find(dir.profiles.begin(), dir.profiles.end(), request.profile) == dir.profiles.end())
      return fail(ErrorKind::Invalid, "the CA does not offer the certificate profile '" + request.profile + "'");
    payload["profile"] = request.profile;
  }
  // RFC 9773 §5: `replaces` only where the CA implements ARI.
  if (!request.replaces.empty() && !dir.renewal_info.empty()) payload["replaces"] = request.replaces;
  return payload;
}

}  // namespace

Result<Order> new_order(AcmeSession& session, const NewOrder& request) {
  const std::string doing = "creating an order for " + std::to_string(request.dns_names.size()) + " name(s)";
  auto names = checked_names(request.dns_names);
  if (!names) return std::unexpected(std::move(names.error()).context(doing));
  auto payload = new_order_payload(session.directory(), request, *names);
  if (!payload) return std::unexpected(std::move(payload.error()).context(doing));
  auto resp = session.post(session.directory().new_order, json::serialize(*payload), doing);
  if (!resp) return std::unexpected(resp.error());
  auto url = location_of(*resp, "order");
  if (!url) return std::unexpected(std::move(url.error()).context(doing));
  auto obj = json_body(*resp, "order");
  if (!obj) return std::unexpected(std::move(obj.error()).context(doing));
  auto order = parse_order(*obj, *url);
  if (!order) return std::unexpected(std::move(order.error()).context(doing));
  if (identifier_names(order->identifiers) != normalized_names(*names))
    return fail(ErrorKind::Protocol, doing + ": the CA's order names other identifiers than were asked for");
  // One authorization per identifier (RFC 8555 §7.1.3): more would only make us fetch what a CA pads in.
  if (order->authorizations.size() > order->identifiers.size())
    return fail(ErrorKind::Protocol, doing + ": the order lists " + std::to_string(order->authorizations.size()) +
                                         " authorizations for " + std::to_string(order->identifiers.size()) +
                                         " identifier(s); at most one per identifier is accepted");
  return order;
}

namespace {

// POST-as-GET of the `what` at `url`, its body read by `parse` (an order keeps the Retry-After it
// came with, for polling); every error says what was being read.
template <class T>
Result<T> fetch_object(AcmeSession& session, std::string_view url, const std::string& what,
                       Result<T> (*parse)(const boost::json::object&, std::string_view)) {
  const std::string doing = "reading the " + what + " " + std::string(url);
  auto resp = session.post_as_get(url, doing);
  if (!resp) return std::unexpected(resp.error());
  auto obj = json_body(*resp, what);
  if (!obj) return std::unexpected(std::move(obj.error()).context(doing));
  auto parsed = parse(*obj, url);
  if (!parsed) return std::unexpected(std::move(parsed.error()).context(doing));
  if constexpr (requires { parsed->retry_after; }) parsed->retry_after = session.retry_after(*resp);
  return parsed;
}

}  // namespace

Result<Order> fetch_order(AcmeSession& session, std::string_view url) {
  return fetch_object(session, url, "order", &parse_order);
}

Result<Authorization> fetch_authorization(AcmeSession& session, std::string_view url) {
  return fetch_object(session, url, "authorization", &parse_authorization);
}

}  // namespace certagent::protocol
