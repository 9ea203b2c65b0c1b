#include "protocol/acme/ari.hpp"

#include <charconv>

#include "protocol/acme/json.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

// Exactly n ASCII digits (from_chars alone would also take a '-' sign).
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, out);
  return ec == std::errc() && end == s.data() + pos + n;
}

// The range of TimePoint (nanoseconds: about 1678 to 2261); converting a date outside it overflows.
constexpr auto kEarliest = std::chrono::time_point_cast<std::chrono::seconds>(TimePoint::min()) + std::chrono::seconds(1);
constexpr auto kLatest = std::chrono::time_point_cast<std::chrono::seconds>(TimePoint::max()) - std::chrono::seconds(1);

Result<TimePoint> window_edge(const json::object& window, std::string_view key) {
  auto text = required_string(window, key, "suggested window");
  if (!text) return std::unexpected(text.error());
  return parse_rfc3339(*text);
}

}  // namespace

Result<std::string> ari_cert_id(std::string_view authority_key_id, std::string_view serial_der) {
  if (authority_key_id.empty())
    return fail(ErrorKind::Invalid, "the certificate has no Authority Key Identifier, so it has no ARI certID");
  if (serial_der.empty()) return fail(ErrorKind::Invalid, "the certificate has an empty serial number");
  return base64url_encode(authority_key_id) + "." + base64url_encode(serial_der);
}

Result<TimePoint> parse_rfc3339(std::string_view s) {
  auto bad = [&] { return fail(ErrorKind::Protocol, "'" + sanitize(s, 40) + "' is not an RFC 3339 date-time"); };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return bad();
  size_t pos = 19;
  if (s[pos] == '.') {
    const size_t first = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;  // fractions are dropped
    if (pos == first) return bad();                                   // but there is one
  }
  int offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return bad();
    offset_min = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return bad();
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (pos != s.size() || !ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad();
  auto t = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) -
           std::chrono::minutes(offset_min);
  if (t < kEarliest || t > kLatest)
    return fail(ErrorKind::Protocol, "'" + sanitize(s, 40) + "' is outside the dates this system's clock can hold");
  return std::chrono::time_point_cast<TimePoint::duration>(t);
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
  return RenewalInfo{*start, *end, sanitize(string_member(*obj, "explanationURL").value_or(""), 500), std::nullopt};
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
