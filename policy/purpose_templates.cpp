#include "policy/purpose_templates.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace certagent::policy {
namespace {

Result<TemplateEntry> read_entry(const Reader& r, const json::value& v, const std::string& path, bool record) {
  std::string text;
  std::string rule = path;
  if (v.is_object()) {
    auto o = r.object(v, path, {"name", "rule"});
    if (!o) return std::unexpected(o.error());
    auto name_v = r.required(**o, path, "name", "the name template, e.g. \"www.{domains}\"");
    if (!name_v) return std::unexpected(name_v.error());
    auto s = r.string(**name_v, member_path(path, "name"));
    if (!s) return std::unexpected(s.error());
    text = std::move(*s);
    if (const auto* rv = (*o)->if_contains("rule")) {
      auto rs = r.string(*rv, member_path(path, "rule"));
      if (!rs) return std::unexpected(rs.error());
      rule = std::move(*rs);
    }
  } else {
    auto s = r.string(v, path);
    if (!s) return std::unexpected(s.error());
    text = std::move(*s);
  }
  const std::string at = v.is_object() ? member_path(path, "name") : path;
  auto t = parse_name_template(text);
  if (!t) return r.fail(at, t.error().message);
  return TemplateEntry{std::move(*t), std::move(rule), record ? at : std::string()};
}

}  // namespace

bool is_purpose_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

Result<std::vector<PurposeTemplates>> read_purpose_templates(const Reader& r, const json::value& v,
                                                             const std::string& path, bool record_paths) {
  auto o = r.object(v, path);
  if (!o) return std::unexpected(o.error());
  std::vector<PurposeTemplates> out;
  for (const auto& member : **o) {
    std::string purpose(member.key());
    std::string ppath = member_path(path, purpose);
    if (!is_purpose_name(purpose))
      return r.fail(ppath, "a purpose name is 1 to 64 letters, digits, '-', '_' or '.'", Anchor::Key);
    auto list = r.array(member.value(), ppath);
    if (!list) return std::unexpected(list.error());
    PurposeTemplates pt{purpose, {}};
    for (size_t i = 0; i < (*list)->size(); ++i) {
      auto entry = read_entry(r, (**list)[i], element_path(ppath, i), record_paths);
      if (!entry) return std::unexpected(entry.error());
      pt.entries.push_back(std::move(*entry));
    }
    out.push_back(std::move(pt));
  }
  return out;
}

void add_name(NameSet& set, const std::string& name, const std::vector<std::string>& rules, const std::string& from) {
  auto [at, added] = set.index.try_emplace(name, set.names.size());
  if (added) {
    set.names.push_back({name, rules, from});
    return;
  }
  auto& known = set.names[at->second].rules;
  for (const auto& rule : rules)
    if (std::find(known.begin(), known.end(), rule) == known.end()) known.push_back(rule);
}

Result<PurposeNames> expand_purpose(const Reader& r, const PurposeTemplates& p, const Variables& vars,
                                    const std::string& fallback_path) {
  PurposeNames out{p.purpose, {}};
  NameSet set{out.names};
  for (const auto& entry : p.entries) {
    auto names = expand_with_origins(entry.name, vars);
    const std::string& template_at = !entry.path.empty() ? entry.path : fallback_path;
    if (!names) {
      const std::string& at = !names.error().origin.empty() ? names.error().origin : template_at;
      return r.fail(at, fmt::format("{} (needed for purpose {})", names.error().message, p.purpose));
    }
    // A name is blamed on the value it took when the template starts with that value (so a
    // wildcard value is found where it is written), else on the template.
    const bool starts_with_value = !entry.name.segments.empty() && entry.name.segments.front().variable;
    for (const auto& name : *names)
      add_name(set, name.text, {entry.rule}, starts_with_value && !name.origin.empty() ? name.origin : template_at);
  }
  return out;
}

}  // namespace certagent::policy
