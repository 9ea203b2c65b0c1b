#include "policy/reader.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/dns_name.hpp"
#include "common/escape.hpp"
#include "policy/idna.hpp"

namespace certagent::policy {
namespace {

// The parent of "a.b[2]" is "a.b", of "a.b" is "a", of "a" is "".
std::string parent_path(std::string_view path) {
  if (path.empty()) return {};
  if (path.back() == ']') {
    size_t open = path.rfind('[');
    // a quoted key: ["..."] may itself contain '['; find the matching "[\""
    if (path.size() >= 2 && path[path.size() - 2] == '"') open = path.rfind("[\"");
    return std::string(path.substr(0, open == std::string_view::npos ? 0 : open));
  }
  size_t dot = path.find_last_of(".]");
  if (dot == std::string_view::npos) return {};
  return std::string(path.substr(0, path[dot] == ']' ? dot + 1 : dot));
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(std::string_view key, std::initializer_list<std::string_view> allowed) {
  std::string list;
  std::string_view best;
  size_t best_distance = 3;  // suggest only close matches
  for (auto a : allowed) {
    list += list.empty() ? "" : ", ";
    list += a;
    size_t d = edit_distance(key, a);
    if (d < best_distance) best_distance = d, best = a;
  }
  std::string msg = fmt::format("unknown key '{}'", key);
  if (!best.empty()) msg += fmt::format(" — did you mean '{}'?", best);
  return msg + fmt::format(" (allowed here: {})", list);
}

std::string dns_error_message(std::string_view raw, const Error& e) {
  std::string msg = e.message;
  bool ascii = std::all_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (!ascii) {
    auto alabel = to_a_label_form(raw);
    msg += alabel ? fmt::format("; here: '{}' (libidn2: IDNA2008, UTS #46 non-transitional)", escape_control(*alabel, 300))
                  : "; " + alabel.error().message;
  }
  return msg;
}

}  // namespace

std::string_view json_kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

std::optional<std::chrono::seconds> parse_duration(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  long long n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (ec != std::errc{} || end != s.data() + s.size() - 1 || n < 0) return std::nullopt;
  long long unit = 0;
  switch (s.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return std::nullopt;
  }
  if (n > 3650LL * 86400 / unit) return std::nullopt;  // ten years is plenty
  return std::chrono::seconds(n * unit);
}

namespace {

// Where `path` (or, when it is not in the text, its nearest enclosing path) starts.
Position nearest_position(std::string_view text, std::string_view path, Anchor anchor) {
  std::string at(path);
  std::optional<Position> pos = find_position(text, at, anchor);
  while (!pos && !at.empty()) {
    at = parent_path(at);
    pos = find_position(text, at, Anchor::Value);
  }
  return pos.value_or(Position{});
}

}  // namespace

Error Reader::error(std::string_view path, std::string_view message, Anchor anchor) const {
  return Error(ErrorKind::Policy, located(file_, nearest_position(text_, path, anchor),
                                          fmt::format("{}: {}", display_path(path), message)));
}

std::string Reader::where(std::string_view path) const {
  return located(file_, nearest_position(text_, path, Anchor::Value), display_path(path));
}

Result<ProfileChoice> Reader::profile(const json::value& v, std::string_view path) const {
  auto s = string(v, path);
  if (!s) return std::unexpected(s.error());
  const bool token = !s->empty() && s->size() <= 64 &&
                     std::all_of(s->begin(), s->end(), [](char c) { return c > ' ' && c < 0x7f; });
  if (!token)
    return fail(path, fmt::format("'{}' is not a profile name; write one of the names the CA's directory lists "
                                  "under meta.profiles (e.g. \"tlsserver\"; `certagent acme directory` shows them)",
                                  *s));
  return ProfileChoice{*s, where(path)};
}

Result<const json::object*> Reader::object(const json::value& v, std::string_view path) const {
  if (!v.is_object()) return fail(path, fmt::format("expected an object {{...}}, found {}", json_kind(v)));
  return &v.get_object();
}

Result<const json::object*> Reader::object(const json::value& v, std::string_view path,
                                           std::initializer_list<std::string_view> allowed) const {
  auto o = object(v, path);
  if (!o) return o;
  for (const auto& member : **o) {
    std::string_view key = member.key();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return fail(member_path(path, key), unknown_key_message(key, allowed), Anchor::Key);
  }
  return o;
}

Result<const json::array*> Reader::array(const json::value& v, std::string_view path) const {
  if (!v.is_array()) return fail(path, fmt::format("expected an array [...], found {}", json_kind(v)));
  return &v.get_array();
}

Result<const json::value*> Reader::required(const json::object& o, std::string_view path, std::string_view key,
                                            std::string_view hint) const {
  if (const json::value* v = o.if_contains(key)) return v;
  return fail(path, fmt::format("missing required key '{}' ({})", key, hint));
}

Result<std::string> Reader::string(const json::value& v, std::string_view path) const {
  if (!v.is_string()) return fail(path, fmt::format("expected a string, found {}", json_kind(v)));
  const auto& s = v.get_string();
  if (s.empty()) return fail(path, "is empty; remove the key or give it a value");
  return std::string(s.data(), s.size());
}

namespace {

// `v` read by `one`: a single value, or each element of an array (at "path[i]").
template <class ReadOne>
Result<std::vector<std::string>> one_or_each(const json::value& v, std::string_view path, ReadOne one) {
  std::vector<std::string> out;
  if (!v.is_array()) {
    auto s = one(v, path);
    if (!s) return std::unexpected(s.error());
    out.push_back(std::move(*s));
    return out;
  }
  const auto& a = v.get_array();
  for (size_t i = 0; i < a.size(); ++i) {
    auto s = one(a[i], element_path(path, i));
    if (!s) return std::unexpected(s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace

Result<std::string> Reader::choice(const json::value& v, std::string_view path,
                                   std::initializer_list<std::string_view> choices) const {
  auto s = string(v, path);
  if (!s) return s;
  if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
  std::string list;
  for (auto c : choices) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", c);
  return fail(path, fmt::format("'{}' is not one of {}", *s, list));
}

Result<std::vector<std::string>> Reader::strings(const json::value& v, std::string_view path) const {
  if (!v.is_string() && !v.is_array())
    return fail(path, fmt::format("expected a string or an array of strings, found {}", json_kind(v)));
  return one_or_each(v, path, [this](const json::value& e, std::string_view p) { return string(e, p); });
}

Result<std::string> Reader::dns_name(const json::value& v, std::string_view path) const {
  auto s = string(v, path);
  if (!s) return s;
  auto name = normalize_dns_name(*s);
  if (!name) return fail(path, dns_error_message(*s, name.error()));
  if (auto idna = check_a_labels(*name); !idna)
    return fail(path, fmt::format("DNS name '{}' has an xn-- label that is not a valid A-label: {}",
                                  escape_control(*name, 300), idna.error().message));
  return name;
}

Result<std::vector<std::string>> Reader::dns_names(const json::value& v, std::string_view path) const {
  return one_or_each(v, path, [this](const json::value& e, std::string_view p) { return dns_name(e, p); });
}

Result<std::string> Reader::absolute_path(const json::value& v, std::string_view path) const {
  auto s = string(v, path);
  if (!s) return s;
  if (s->front() != '/') return fail(path, fmt::format("'{}' is not an absolute path; write it from '/'", *s));
  if (s->find('\0') != std::string::npos) return fail(path, "contains a NUL character");
  return s;
}

Result<std::string> Reader::required_path(const json::object& o, std::string_view path, std::string_view key,
                                          std::string_view hint) const {
  auto v = required(o, path, key, hint);
  if (!v) return std::unexpected(v.error());
  return absolute_path(**v, member_path(path, key));
}

Result<std::chrono::seconds> Reader::duration(const json::value& v, std::string_view path) const {
  auto s = string(v, path);
  if (!s) return std::unexpected(s.error());
  if (auto d = parse_duration(*s)) return *d;
  return fail(path, fmt::format("'{}' is not a duration; write a whole number and a unit s, m, h or d "
                                "(e.g. \"30s\", \"30d\"), at most ten years",
                                *s));
}

}  // namespace certagent::policy
