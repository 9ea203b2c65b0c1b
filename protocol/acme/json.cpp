#include "protocol/acme/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include "common/utf8.hpp"
#include "protocol/http/http.hpp"

namespace certagent::protocol {
namespace json = boost::json;

Result<json::object> parse_json_object(std::string_view body, std::string_view what) {
  if (body.size() > kMaxJsonBytes)
    return fail(ErrorKind::Protocol, "the " + std::string(what) + " is " + std::to_string(body.size()) +
                                         " bytes, more than the " + std::to_string(kMaxJsonBytes) + " accepted");
  json::parse_options options;
  options.max_depth = 16;
  std::error_code ec;
  json::value value = json::parse(json::string_view(body.data(), body.size()), ec, {}, options);
  if (ec) return fail(ErrorKind::Protocol, "the " + std::string(what) + " is not valid JSON (" + ec.message() + ")");
  if (!value.is_object()) return fail(ErrorKind::Protocol, "the " + std::string(what) + " is not a JSON object");
  return std::move(value.as_object());
}

std::optional<std::string> string_member(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

Result<std::string> required_string(const json::object& obj, std::string_view key, std::string_view what) {
  auto s = string_member(obj, key);
  if (!s || s->empty())
    return fail(ErrorKind::Protocol, "the " + std::string(what) + " has no \"" + std::string(key) + "\" string");
  return *s;
}

Result<std::vector<std::string>> string_array(const json::object& obj, std::string_view key, std::string_view what,
                                              size_t max_items) {
  std::vector<std::string> out;
  const json::value* v = obj.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr) return out;
  if (!v->is_array())
    return fail(ErrorKind::Protocol, "the " + std::string(what) + "'s \"" + std::string(key) + "\" is not an array");
  const auto& arr = v->as_array();
  if (arr.size() > max_items)
    return fail(ErrorKind::Protocol, "the " + std::string(what) + " lists " + std::to_string(arr.size()) + " \"" +
                                         std::string(key) + "\", more than the " + std::to_string(max_items) +
                                         " accepted");
  for (const auto& item : arr) {
    if (!item.is_string())
      return fail(ErrorKind::Protocol,
                  "the " + std::string(what) + "'s \"" + std::string(key) + "\" holds something not a string");
    out.emplace_back(item.as_string());
  }
  return out;
}

std::string sanitize(std::string_view untrusted, size_t max) {
  std::string out;
  out.reserve(std::min(untrusted.size(), max));
  size_t i = 0;
  while (i < untrusted.size()) {
    // Whole characters only, so a cut never splits one; an ill-formed byte becomes '?'.
    const size_t len = utf8_sequence_length(untrusted, i);
    const size_t width = len == 0 ? 1 : len;
    if (out.size() + width > max) break;
    const auto c = static_cast<unsigned char>(untrusted[i]);
    // C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F in UTF-8; CSI among them.
    const bool control = len == 1 ? (c < 0x20 || c == 0x7F)
                                  : len == 2 && c == 0xC2 && static_cast<unsigned char>(untrusted[i + 1]) <= 0x9F;
    if (len == 0 || control) out += '?';
    else out.append(untrusted.substr(i, len));
    i += width;
  }
  if (i < untrusted.size()) out += "...";
  return out;
}

Result<std::string> url_from_ca(std::string url, std::string_view what) {
  if (is_https_url(url)) return url;
  return fail(ErrorKind::Protocol, "the CA's " + std::string(what) + " is not https (only https:// URLs are followed): '" +
                                       sanitize(url, 200) + "'");
}

}  // namespace certagent::protocol
