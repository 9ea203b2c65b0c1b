#pragma once
// A role's names in the generic form: for each purpose, a list of name
// templates, each with the rule that asks for it. Read from a "names" object
// (the presets and the policy file use the same form) and expanded into the
// purpose's required names.
#include <boost/json/value.hpp>

#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "policy/model.hpp"
#include "policy/name_template.hpp"
#include "policy/reader.hpp"

namespace certagent::policy {

struct TemplateEntry {
  NameTemplate name;
  std::string rule;  // a preset rule id, or the entry's policy path
  std::string path;  // where it was written (policy path), empty for presets
};

struct PurposeTemplates {
  std::string purpose;
  std::vector<TemplateEntry> entries;
};

// {"Purpose": ["template", {"name": "template", "rule": "id"}, ...], ...}
// `record_paths`: false for the presets, whose paths are not in the policy file.
[[nodiscard]] Result<std::vector<PurposeTemplates>> read_purpose_templates(const Reader& r, const json::value& v,
                                                                          const std::string& path,
                                                                          bool record_paths = true);

// Expands every entry; names are de-duplicated in first-seen order, the rules
// of a repeated name merged. An invalid result is reported at the variable
// value that made it invalid, else at the template, else at `fallback_path`.
[[nodiscard]] Result<PurposeNames> expand_purpose(const Reader& r, const PurposeTemplates& p, const Variables& vars,
                                                  const std::string& fallback_path);

// Names being collected without duplicates: a name seen again only adds its rules. The index keeps
// this O(1) per name (a linear search made 80 templates x 1,000 SIP domains take 10 s to parse).
struct NameSet {
  std::vector<RequiredName>& names;
  std::unordered_map<std::string, std::size_t> index{};
};
// `from`: the policy path the name came from (kept from its first occurrence).
void add_name(NameSet& set, const std::string& name, const std::vector<std::string>& rules, const std::string& from);

[[nodiscard]] bool is_purpose_name(std::string_view s);

}  // namespace certagent::policy
