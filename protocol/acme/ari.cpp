#include "common/escape.hpp"
#include "protocol/acme/ari.hpp"


#include "common/rfc3339.hpp"
#include "protocol/acme/json.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

// The range of ClockTime (nanoseconds: about 1678 to 2261); converting a date outside it overflows.
constexpr auto kEarliest = std::chrono::time_point_cast<std::chrono::seconds>(ClockTime::min()) + std::chrono::seconds(1);
constexpr auto kLatest = std::chrono::time_point_cast<std::chrono::seconds>(ClockTime::max()) - std::chrono::seconds(1);

Result<ClockTime> window_edge(const json::object& window, std::string_view key) {
  auto text = required_string(window, key, "suggested window");
  if (!text) return std::unexpected(text.error());
  return parse_acme_time(*text);
}

}  // namespace

Result<std::string> ari_cert_id(std::string_view authority_key_id, std::string_view serial_der) {
  if (authority_key_id.empty())
    return fail(ErrorKind::Invalid, "the certificate has no Authority Key Identifier, so it has no ARI certID");
  if (serial_der.empty()) return fail(ErrorKind::Invalid, "the certificate has an empty serial number");
  return base64url_encode(authority_key_id) + "." + base64url_encode(serial_der);
}

Result<ClockTime> parse_acme_time(std::string_view s) {
  auto t = parse_rfc3339(s);
  if (!t) return fail(ErrorKind::Protocol, t.error().message);
  if (*t < kEarliest || *t > kLatest)
    return fail(ErrorKind::Protocol, "'" + escape_control(s, 40) + "' is outside the dates this system's clock can hold");
  return std::chrono::time_point_cast<ClockTime::duration>(*t);
}

Result<RenewalInfo> parse_renewal_info(std::string_view body) {
  auto obj = parse_json_object(body, "renewal information");
  if (!obj) return std::unexpected(obj.error());
  const auto* window = obj->if_contains("suggestedWindow");
  if (window == nullptr || !window->is_object())
    return fail(ErrorKind::Protocol, "the renewal information has no suggestedWindow object");
  auto start = window_edge(window->as_object(), "start");
  auto end = window_edge(window->as_object(), "end");
  if (!start) return std::unexpected(std::move(start.error()).context("reading the suggested renewal window"));
  if (!end) return std::unexpected(std::move(end.error()).context("reading the suggested renewal window"));
  if (*end <= *start) return fail(ErrorKind::Protocol, "the suggested renewal window ends before it starts");
  return RenewalInfo{*start, *end, escape_control(string_member(*obj, "explanationURL").value_or(""), 500), std::nullopt};
}

Result<RenewalInfo> fetch_renewal_info(AcmeSession& session, std::string_view cert_id) {
  const std::string doing = "fetching renewal information for " + std::string(cert_id);
  std::string base = session.directory().renewal_info;
  if (base.empty()) return fail(ErrorKind::Protocol, doing + ": the CA does not offer ARI (no renewalInfo)");
  if (!base.ends_with('/')) base += '/';
  auto resp = session.get(base + std::string(cert_id), doing);
  if (!resp) return std::unexpected(resp.error());
  auto type = resp->header("Content-Type").value_or("");
  if (!type.starts_with("application/json"))
    return fail(ErrorKind::Protocol, doing + ": the answer is not application/json");
  auto info = parse_renewal_info(resp->body);
  if (!info) return std::unexpected(std::move(info.error()).context(doing));
  info->retry_after = session.retry_after(*resp);
  return info;
}

}  // namespace certagent::protocol
