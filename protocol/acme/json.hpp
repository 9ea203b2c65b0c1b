#pragma once
// Reading what the CA sends: size- and depth-capped JSON parsing, typed member
// access that never throws, and sanitizing of CA text before it reaches a message.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/error.hpp"

namespace certagent::protocol {

inline constexpr size_t kMaxJsonBytes = 1u << 20;  // 1 MiB: no ACME object comes close

// Parses `body` as one JSON object. Oversized, too deep, malformed or not an
// object: a Protocol error naming `what`.
[[nodiscard]] Result<boost::json::object> parse_json_object(std::string_view body, std::string_view what);

// The member as a string; nullopt when absent or not a string.
[[nodiscard]] std::optional<std::string> string_member(const boost::json::object& obj, std::string_view key);
// The member as a string; a Protocol error naming `what` when absent, empty or not a string.
[[nodiscard]] Result<std::string> required_string(const boost::json::object& obj, std::string_view key,
                                                  std::string_view what);
// The member as an array of strings (absent: empty); a Protocol error when any element is not a string
// or there are more than `max_items`.
[[nodiscard]] Result<std::vector<std::string>> string_array(const boost::json::object& obj, std::string_view key,
                                                            std::string_view what, size_t max_items);

// Text from the CA on its way into a message or a log line: common/escape.hpp's escape_control.

// A URL the CA hands us to follow (directory entry, Location, order,
// authorization, challenge, finalize or certificate URL), checked where it
// enters: it must pass is_https_url (so it holds no control character or
// space either); otherwise a Protocol error naming `what`, the URL sanitized.
[[nodiscard]] Result<std::string> url_from_ca(std::string url, std::string_view what);

}  // namespace certagent::protocol
