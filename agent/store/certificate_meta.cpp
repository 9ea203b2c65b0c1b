#include "agent/store/certificate_meta.hpp"

#include <cctype>
#include <charconv>
#include <ctime>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace certagent::agent {
namespace json = boost::json;
namespace {

constexpr std::int64_t kFormat = 1;

Result<std::string> get_string(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return fail(ErrorKind::Invalid, fmt::format("\"{}\" is missing or not a string", key));
  return std::string(v->as_string());
}

Result<std::chrono::sys_seconds> get_time(const json::object& o, std::string_view key) {
  auto s = get_string(o, key);
  if (!s) return std::unexpected(s.error());
  auto t = parse_rfc3339(*s);
  if (!t) return std::unexpected(t.error().context(fmt::format("\"{}\"", key)));
  return *t;
}

Result<std::vector<std::string>> get_names(const json::object& o) {
  auto* v = o.if_contains("names");
  if (!v || !v->is_array()) return fail(ErrorKind::Invalid, "\"names\" is missing or not an array");
  std::vector<std::string> names;
  for (const auto& n : v->as_array()) {
    if (!n.is_string()) return fail(ErrorKind::Invalid, "\"names\" holds a value that is not a string");
    names.emplace_back(n.as_string());
  }
  return names;
}

// Reads exactly `n` digits at s[pos].
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, out);
  return ec == std::errc() && p == s.data() + pos + n;
}

Result<int> parse_offset_seconds(std::string_view tz) {
  if (tz == "Z" || tz == "z") return 0;
  int h = 0, m = 0;
  if (tz.size() != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':' || !digits(tz, 1, 2, h) ||
      !digits(tz, 4, 2, m) || h > 23 || m > 59)
    return fail(ErrorKind::Invalid, "bad time zone offset");
  int off = h * 3600 + m * 60;
  return tz[0] == '-' ? -off : off;
}

}  // namespace

json::value to_json(const CertificateMeta& m) {
  json::array names;
  for (const auto& n : m.names) names.emplace_back(n);
  return json::object{
      {"format", kFormat},
      {"certificate_id", m.certificate_id},
      {"names", std::move(names)},
      {"subject", m.subject},
      {"issuer", m.issuer},
      {"not_before", format_rfc3339(m.not_before)},
      {"not_after", format_rfc3339(m.not_after)},
      {"thumbprint", m.thumbprint},
      {"sha256", m.sha256},
      {"serial", m.serial},
      {"key_type", m.key_type},
      {"order_url", m.order_url},
      {"stored_at", format_rfc3339(m.stored_at)},
  };
}

Result<CertificateMeta> meta_from_json(std::string_view text) {
  boost::system::error_code ec;
  // The document lives only in this call: a bump allocator (a stack buffer first) instead of
  // one malloc/free per value. `certagent plan` reads one meta.json per stored version.
  unsigned char buffer[4096];
  json::monotonic_resource arena(buffer, sizeof buffer);
  json::value v = json::parse(text, ec, &arena);
  if (ec) return fail(ErrorKind::Invalid, "not JSON: " + ec.message());
  if (!v.is_object()) return fail(ErrorKind::Invalid, "not a JSON object");
  const auto& o = v.as_object();
  auto* format = o.if_contains("format");
  if (!format || !format->is_int64() || format->as_int64() != kFormat)
    return fail(ErrorKind::Invalid, "\"format\" is missing or not 1");
  CertificateMeta m;
  std::pair<std::string_view, std::string*> strings[] = {
      {"certificate_id", &m.certificate_id}, {"subject", &m.subject}, {"issuer", &m.issuer},
      {"thumbprint", &m.thumbprint},         {"sha256", &m.sha256},   {"serial", &m.serial},
      {"key_type", &m.key_type},             {"order_url", &m.order_url}};
  for (auto& [key, field] : strings) {
    auto s = get_string(o, key);
    if (!s) return std::unexpected(s.error());
    *field = std::move(*s);
  }
  std::pair<std::string_view, std::chrono::sys_seconds*> times[] = {
      {"not_before", &m.not_before}, {"not_after", &m.not_after}, {"stored_at", &m.stored_at}};
  for (auto& [key, field] : times) {
    auto t = get_time(o, key);
    if (!t) return std::unexpected(t.error());
    *field = *t;
  }
  auto names = get_names(o);
  if (!names) return std::unexpected(names.error());
  m.names = std::move(*names);
  return m;
}

std::string format_rfc3339(std::chrono::sys_seconds t) {
  std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

Result<std::chrono::sys_seconds> parse_rfc3339(std::string_view s) {
  auto bad = [&] { return fail(ErrorKind::Invalid, fmt::format("\"{}\" is not an RFC 3339 time", s)); };
  int Y = 0, M = 0, D = 0, h = 0, m = 0, sec = 0;
  if (s.size() < 20 || !digits(s, 0, 4, Y) || s[4] != '-' || !digits(s, 5, 2, M) || s[7] != '-' ||
      !digits(s, 8, 2, D) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, m) || s[16] != ':' || !digits(s, 17, 2, sec))
    return bad();
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return bad();
  }
  auto off = parse_offset_seconds(s.substr(pos));
  if (!off) return bad();
  using namespace std::chrono;
  year_month_day ymd{year(Y), month(static_cast<unsigned>(M)), day(static_cast<unsigned>(D))};
  if (!ymd.ok() || h > 23 || m > 59 || sec > 60) return bad();
  auto t = sys_days(ymd) + hours(h) + minutes(m) + seconds(sec > 59 ? 59 : sec);
  return time_point_cast<seconds>(t) - seconds(*off);
}

Result<std::string> normalize_thumbprint(std::string_view s) {
  std::string hex;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == ':' || c == '\r' || c == '\n') continue;
    // U+200E/U+200F (E2 80 8E/8F) and U+FEFF (EF BB BF): invisible marks Windows copies.
    if (s.substr(i, 3) == "\xE2\x80\x8E" || s.substr(i, 3) == "\xE2\x80\x8F" || s.substr(i, 3) == "\xEF\xBB\xBF") {
      i += 2;
      continue;
    }
    if (!std::isxdigit(c))
      return fail(ErrorKind::Invalid, "a thumbprint holds hexadecimal digits only; found another character in it");
    hex.push_back(static_cast<char>(std::toupper(c)));
  }
  if (hex.size() != 40 && hex.size() != 64)
    return fail(ErrorKind::Invalid,
                fmt::format("a thumbprint has 40 hex digits (SHA-1) or 64 (SHA-256); this one has {}", hex.size()));
  return hex;
}

}  // namespace certagent::agent
