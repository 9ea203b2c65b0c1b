#include "policy/name_template.hpp"

#include <fmt/format.h>

#include "common/dns_name.hpp"
#include "policy/idna.hpp"

namespace certagent::policy {
namespace {

std::string known_variables(const Variables& vars) {
  std::string out;
  for (const auto& [name, values] : vars) out += fmt::format("{}{}", out.empty() ? "" : ", ", name);
  return out;
}

}  // namespace

bool is_variable_name(std::string_view name) {
  if (name.empty() || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

Result<NameTemplate> parse_name_template(std::string_view text) {
  NameTemplate t{std::string(text), {}};
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find_first_of("{}", i);
    if (open == std::string_view::npos) open = text.size();
    if (open > i) t.segments.push_back({false, std::string(text.substr(i, open - i))});
    if (open == text.size()) break;
    if (text[open] == '}')
      return fail(ErrorKind::Policy, fmt::format("'}}' without '{{' at character {} of '{}'", open + 1, text));
    size_t close = text.find('}', open);
    if (close == std::string_view::npos)
      return fail(ErrorKind::Policy, fmt::format("'{{' without '}}' in '{}'", text));
    std::string_view var = text.substr(open + 1, close - open - 1);
    if (!is_variable_name(var))
      return fail(ErrorKind::Policy,
                  fmt::format("'{{{}}}' in '{}' is not a variable name (lower-case letters, digits, '_')", var, text));
    t.segments.push_back({true, std::string(var)});
    i = close + 1;
  }
  if (t.segments.empty()) return fail(ErrorKind::Policy, "empty name template");
  return t;
}

std::expected<std::vector<VariableValue>, ExpandError> expand_with_origins(const NameTemplate& t,
                                                                          const Variables& vars) {
  std::vector<VariableValue> partial{{"", ""}};  // text so far, and the last value it used
  for (const auto& seg : t.segments) {
    if (!seg.variable) {
      for (auto& p : partial) p.text += seg.text;
      continue;
    }
    auto it = vars.find(seg.text);
    if (it == vars.end())
      return std::unexpected(ExpandError{fmt::format("'{}' uses the unknown variable '{{{}}}' (known here: {})",
                                                     t.source, seg.text, known_variables(vars)), ""});
    if (partial.size() * it->second.size() > kMaxNamesPerTemplate)
      return std::unexpected(ExpandError{fmt::format("'{}' expands to more than {} names; split it or use "
                                                     "fewer list variables in one template",
                                                     t.source, kMaxNamesPerTemplate), ""});
    std::vector<VariableValue> next;
    next.reserve(partial.size() * it->second.size());
    for (const auto& p : partial)
      for (const auto& value : it->second) next.push_back({p.text + value.text, value.origin});
    partial = std::move(next);
  }
  std::vector<VariableValue> names;
  for (const auto& raw : partial) {
    auto name = normalize_dns_name(raw.text);
    if (!name)
      return std::unexpected(ExpandError{fmt::format("'{}' gives '{}', which is not a valid DNS name: {}",
                                                     t.source, raw.text, name.error().message), raw.origin});
    if (auto idna = check_a_labels(*name); !idna)
      return std::unexpected(ExpandError{fmt::format("'{}' gives '{}', which has an xn-- label that is not a valid "
                                                     "A-label: {}", t.source, *name, idna.error().message), raw.origin});
    names.push_back({std::move(*name), raw.origin});
  }
  return names;
}

std::expected<std::vector<std::string>, ExpandError> expand(const NameTemplate& t, const Variables& vars) {
  auto located = expand_with_origins(t, vars);
  if (!located) return std::unexpected(std::move(located.error()));
  std::vector<std::string> names;
  names.reserve(located->size());
  for (auto& n : *located) names.push_back(std::move(n.text));
  return names;
}

}  // namespace certagent::policy
