#include "common/escape.hpp"
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

Result<std::string> url_from_ca(std::string url, std::string_view what) {
  if (is_https_url(url)) return url;
  return fail(ErrorKind::Protocol, "the CA's " + std::string(what) + " is not https (only https:// URLs are followed): '" +
                                       escape_control(url, 200) + "'");
}

}  // namespace certagent::protocol
