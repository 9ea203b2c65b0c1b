#pragma once
// Name templates of the generic policy form: literal text with {variable}
// references, e.g. "lyncdiscover.{autodiscover_domains}". Every variable is a
// list of strings (a single value is a list of one); a template expands to one
// name per element — per combination, when it names several list variables —
// and to no name when a variable is empty.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace certagent::policy {

// A variable's value, and the policy path it came from (so that a name made
// invalid by a value is reported at that value; empty for derived values).
struct VariableValue {
  std::string text;
  std::string origin;
};
using Variables = std::map<std::string, std::vector<VariableValue>, std::less<>>;

struct ExpandError {
  std::string message;
  std::string origin;  // the value to blame, or empty: blame the template
};

struct NameTemplate {
  struct Segment {
    bool variable = false;
    std::string text;  // literal text, or the variable's name
  };
  std::string source;
  std::vector<Segment> segments;
};

inline constexpr std::size_t kMaxNamesPerTemplate = 1000;

// Errors carry no location; the caller adds the template's position.
[[nodiscard]] Result<NameTemplate> parse_name_template(std::string_view text);
// Expanded, normalised (normalize_dns_name) names in element order.
[[nodiscard]] std::expected<std::vector<std::string>, ExpandError> expand(const NameTemplate& t,
                                                                          const Variables& vars);
// The same, each name with the origin of the value it took last (empty for derived values and
// for a template without variables).
[[nodiscard]] std::expected<std::vector<VariableValue>, ExpandError> expand_with_origins(const NameTemplate& t,
                                                                                         const Variables& vars);
[[nodiscard]] bool is_variable_name(std::string_view name);

}  // namespace certagent::policy
