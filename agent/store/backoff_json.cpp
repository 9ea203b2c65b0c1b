// BackoffState <-> JSON, strict: anything to_json did not write is refused with the reason.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "agent/store/backoff.hpp"
#include "common/escape.hpp"
#include "common/utf8.hpp"

namespace certagent::agent {

namespace json = boost::json;

namespace {

constexpr std::int64_t format_version = 1;
constexpr std::int64_t latest_time = 253402300799;  // 9999-12-31T23:59:59Z
constexpr std::int64_t max_failures = 1'000'000;
constexpr std::size_t max_text = 4096;
constexpr std::size_t max_quoted = 64;  // document text quoted in an error message, escaped
constexpr std::array<std::string_view, 9> keys = {
    "format", "consecutive_failures", "permanent", "last_attempt", "next_attempt",
    "last_error_kind", "last_error_message", "last_problem_type", "last_success"};

// At most max_text bytes of well-formed UTF-8 (a stray byte becomes '?'), so the file always parses.
std::string clean_text(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t len = utf8_sequence_length(in, i);
    if (out.size() + std::max<std::size_t>(len, 1) > max_text) break;
    if (len == 0) out += '?';
    else out.append(in.substr(i, len));
    i += std::max<std::size_t>(len, 1);
  }
  return out;
}

json::value time_value(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return t->time_since_epoch().count();
}

std::unexpected<Error> corrupt(const std::string& what) {
  return fail(ErrorKind::Storage, "reading the back-off state: " + what);
}

Result<std::int64_t> integer(const json::object& o, std::string_view key, std::int64_t lo, std::int64_t hi) {
  const json::value& v = o.at(key);
  if (!v.is_int64() && !(v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(hi)))
    return corrupt(fmt::format("\"{}\" is not an integer", key));
  const std::int64_t n = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
  if (n < lo || n > hi) return corrupt(fmt::format("\"{}\" = {} is outside [{}, {}]", key, n, lo, hi));
  return n;
}

Result<std::optional<TimePoint>> time_field(const json::object& o, std::string_view key) {
  if (o.at(key).is_null()) return std::optional<TimePoint>{};
  auto n = integer(o, key, 1, latest_time);
  if (!n) return std::unexpected(n.error());
  return std::optional<TimePoint>{TimePoint{Seconds{*n}}};
}

Result<std::string> text_field(const json::object& o, std::string_view key) {
  const json::value& v = o.at(key);
  if (!v.is_string()) return corrupt(fmt::format("\"{}\" is not a string", key));
  if (v.get_string().size() > max_text) return corrupt(fmt::format("\"{}\" is longer than {} bytes", key, max_text));
  return std::string(v.get_string());
}

Result<void> check_keys(const json::object& o) {
  for (const auto& kv : o)
    if (std::find(keys.begin(), keys.end(), std::string_view(kv.key())) == keys.end())
      return corrupt(fmt::format("unknown key \"{}\"", escape_control(kv.key(), max_quoted)));
  for (auto k : keys)
    if (!o.contains(k)) return corrupt(fmt::format("missing key \"{}\"", k));
  auto format = integer(o, "format", 0, max_failures);
  if (!format) return std::unexpected(format.error());
  if (*format != format_version)
    return corrupt(fmt::format("format {} is not the supported format {}", *format, format_version));
  if (!o.at("permanent").is_bool()) return corrupt("\"permanent\" is not a boolean");
  return ok();
}

Result<std::optional<ErrorKind>> kind_field(const json::object& o) {
  const json::value& v = o.at("last_error_kind");
  if (v.is_null()) return std::optional<ErrorKind>{};
  if (!v.is_string()) return corrupt("\"last_error_kind\" is not a string");
  auto kind = error_kind_from_string(v.get_string());
  if (!kind)
    return corrupt(fmt::format("\"last_error_kind\" \"{}\" is not an error kind",
                               escape_control(v.get_string(), max_quoted)));
  return kind;
}

Result<void> check_consistent(const BackoffState& s) {
  if (s.consecutive_failures == 0 && (s.permanent || s.next_attempt))
    return corrupt("a wait or a permanent error is recorded without any failure");
  if (s.consecutive_failures > 0 && (!s.last_attempt || !s.next_attempt || !s.last_error_kind))
    return corrupt("failures are recorded without last_attempt, next_attempt and last_error_kind");
  if (s.next_attempt && s.last_attempt && *s.next_attempt < *s.last_attempt)
    return corrupt("next_attempt is before last_attempt");
  return ok();
}

// Parses the fields of an object whose keys check_keys accepted.
Result<BackoffState> fields(const json::object& o) {
  BackoffState s;
  auto failures = integer(o, "consecutive_failures", 0, max_failures);
  if (!failures) return std::unexpected(failures.error());
  s.consecutive_failures = static_cast<unsigned>(*failures);
  s.permanent = o.at("permanent").get_bool();
  for (auto [key, field] : {std::pair{"last_attempt", &s.last_attempt}, std::pair{"next_attempt", &s.next_attempt},
                            std::pair{"last_success", &s.last_success}}) {
    auto t = time_field(o, key);
    if (!t) return std::unexpected(t.error());
    *field = *t;
  }
  auto kind = kind_field(o);
  if (!kind) return std::unexpected(kind.error());
  s.last_error_kind = *kind;
  for (auto [key, field] : {std::pair{"last_error_message", &s.last_error_message},
                            std::pair{"last_problem_type", &s.last_problem_type}}) {
    auto text = text_field(o, key);
    if (!text) return std::unexpected(text.error());
    *field = std::move(*text);
  }
  return s;
}

}  // namespace

std::optional<ErrorKind> error_kind_from_string(std::string_view name) {
  // Walks the enumerators until to_string stops knowing them, so a kind added later is found.
  for (int i = 0; i < 256; ++i) {
    const auto kind = static_cast<ErrorKind>(i);
    const std::string_view known = to_string(kind);
    if (known == "unknown") break;
    if (name == known) return kind;
  }
  return std::nullopt;
}

json::value to_json(const BackoffState& s) {
  json::object o;
  o["format"] = format_version;
  o["consecutive_failures"] = s.consecutive_failures;
  o["permanent"] = s.permanent;
  o["last_attempt"] = time_value(s.last_attempt);
  o["next_attempt"] = time_value(s.next_attempt);
  o["last_error_kind"] = s.last_error_kind ? json::value(to_string(*s.last_error_kind)) : json::value(nullptr);
  o["last_error_message"] = clean_text(s.last_error_message);
  o["last_problem_type"] = clean_text(s.last_problem_type);
  o["last_success"] = time_value(s.last_success);
  return o;
}

Result<BackoffState> backoff_state_from_json(const json::value& v) {
  if (!v.is_object()) return corrupt("the document is not a JSON object");
  const json::object& o = v.get_object();
  if (auto k = check_keys(o); !k) return std::unexpected(k.error());
  auto s = fields(o);
  if (!s) return s;
  if (auto c = check_consistent(*s); !c) return std::unexpected(c.error());
  return s;
}

Result<BackoffState> backoff_state_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return corrupt(fmt::format("not valid JSON: {}", ec.message()));
  return backoff_state_from_json(v);
}

}  // namespace certagent::agent
