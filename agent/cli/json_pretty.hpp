#pragma once
// Human-readable JSON for command output: two-space indentation, one member per
// line, keys in the order the document has them.
#include <boost/json/value.hpp>

#include <string>

namespace certagent::agent {

[[nodiscard]] std::string pretty_json(const boost::json::value& value);

}  // namespace certagent::agent
