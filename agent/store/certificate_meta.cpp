#include "agent/store/certificate_meta.hpp"

#include <cctype>

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

}  // namespace

json::value to_json(const CertificateMeta& m) {
  json::array names;
  for (const auto& n : m.names) names.emplace_back(n);
  json::object out{
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
  if (!m.profile.empty()) out["profile"] = m.profile;
  return out;
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
  if (const auto* p = o.if_contains("profile")) {
    if (!p->is_string()) return fail(ErrorKind::Invalid, "\"profile\" is not a string");
    m.profile = std::string(p->as_string());
  }
  return m;
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
