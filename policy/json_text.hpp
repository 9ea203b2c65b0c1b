#pragma once
// JSON text to a Boost.JSON value, with comments and trailing commas allowed
// and nesting limited; a syntax error becomes "FILE:LINE:COLUMN: message".
#include <boost/json/value.hpp>

#include <cstddef>
#include <string_view>

#include "common/error.hpp"

namespace certagent::policy {

inline constexpr std::size_t kMaxPolicyDepth = 32;

[[nodiscard]] Result<boost::json::value> parse_json(std::string_view text, std::string_view file);

}  // namespace certagent::policy
