#include "common/escape.hpp"
#include "protocol/dns/persist_record.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "common/text.hpp"
#include "protocol/acme/json.hpp"  // sanitize

namespace certagent::protocol {
namespace {

// RFC 8659's WSP is space and tab, as HTTP's optional whitespace.
std::string_view trim_wsp(std::string_view s) { return trim(s); }
std::string lower(std::string_view s) { return ascii_lower(s); }

bool valid_value_char(unsigned char c) { return (c >= 0x21 && c <= 0x3A) || (c >= 0x3C && c <= 0x7E); }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t pos; (pos = s.find(sep)) != std::string_view::npos; s.remove_prefix(pos + 1)) out.push_back(s.substr(0, pos));
  out.push_back(s);
  return out;
}

Result<void> take_parameter(std::string_view param, IssueValue& out, std::set<std::string>& seen) {
  param = trim_wsp(param);
  if (param.empty()) return fail(ErrorKind::Invalid, "an empty parameter (two ';' in a row, or one at the end)");
  const auto eq = param.find('=');
  if (eq == std::string_view::npos)
    return fail(ErrorKind::Invalid, "parameter '" + escape_control(param, 80) + "' is not tag=value");
  const std::string tag = lower(trim_wsp(param.substr(0, eq)));
  const std::string_view value = trim_wsp(param.substr(eq + 1));
  if (tag.empty()) return fail(ErrorKind::Invalid, "parameter '" + escape_control(param, 80) + "' has no tag");
  if (!seen.insert(tag).second) return fail(ErrorKind::Invalid, "the tag '" + escape_control(tag, 40) + "' appears twice");
  if (!std::all_of(value.begin(), value.end(), [](unsigned char c) { return valid_value_char(c); }))
    return fail(ErrorKind::Invalid, "the value of '" + escape_control(tag, 40) + "' has whitespace or non-ASCII characters");
  if (tag == "accounturi") {
    if (value.empty()) return fail(ErrorKind::Invalid, "accounturi is empty");
    out.account_uri = value;
  } else if (tag == "policy") {
    out.policy = lower(value) == "wildcard" ? "wildcard" : "";  // any other value: as if absent (§3.1)
  } else if (tag == "persistuntil") {
    long long t = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty())
      return fail(ErrorKind::Invalid, "persistUntil '" + escape_control(value, 40) + "' is not a Unix time");
    out.persist_until = t;
  }  // unknown tags are ignored (RFC 8659 §4.2)
  return {};
}

}  // namespace

PersistRecord expected_persist_record(std::string_view dns_name, std::string issuer_domain, std::string account_uri) {
  const bool wildcard = dns_name.starts_with("*.");
  if (wildcard) dns_name.remove_prefix(2);
  return PersistRecord{std::string(kPersistLabel) + "." + std::string(dns_name), std::move(issuer_domain),
                       std::move(account_uri), wildcard};
}

std::string persist_record_value(const PersistRecord& record) {
  std::string v = record.issuer_domain + "; accounturi=" + record.account_uri;
  if (record.wildcard) v += "; policy=wildcard";
  return v;
}

Result<IssueValue> parse_issue_value(std::string_view txt) {
  auto parts = split(txt, ';');
  IssueValue out;
  out.issuer_domain = lower(trim_wsp(parts.front()));
  if (out.issuer_domain.empty()) return fail(ErrorKind::Invalid, "no issuer domain name before the first ';'");
  std::set<std::string> seen;
  for (size_t i = 1; i < parts.size(); ++i)
    if (auto r = take_parameter(parts[i], out, seen); !r) return std::unexpected(r.error());
  return out;
}

std::string_view to_string(PersistVerdict v) {
  switch (v) {
    case PersistVerdict::Present: return "present";
    case PersistVerdict::Missing: return "missing";
    case PersistVerdict::Wrong: return "wrong";
  }
  return "?";
}

PersistCheck check_persist_record(const PersistRecord& expected, const std::vector<std::string>& txts,
                                  const std::vector<std::string>& issuer_domains, long long now_unix) {
  const std::vector<std::string> issuers = issuer_domains.empty() ? std::vector{expected.issuer_domain} : issuer_domains;
  PersistCheck check{expected, PersistVerdict::Missing, ""};
  std::vector<std::string> wrong;
  for (const auto& txt : txts) {
    auto issuer = lower(trim_wsp(split(txt, ';').front()));
    if (std::find(issuers.begin(), issuers.end(), issuer) == issuers.end()) continue;
    auto parsed = parse_issue_value(txt);
    const std::string shown = "\"" + escape_control(txt, 300) + "\"";
    if (!parsed) wrong.push_back(shown + " is malformed: " + parsed.error().message);
    else if (parsed->account_uri.empty()) wrong.push_back(shown + " has no accounturi");
    else if (parsed->account_uri != expected.account_uri) wrong.push_back(shown + " names another account");
    else if (expected.wildcard && parsed->policy != "wildcard") wrong.push_back(shown + " lacks policy=wildcard");
    else if (parsed->persist_until && now_unix > *parsed->persist_until) wrong.push_back(shown + " expired (persistUntil)");
    else return PersistCheck{expected, PersistVerdict::Present, ""};
  }
  if (!wrong.empty()) {
    check.verdict = PersistVerdict::Wrong;
    check.detail = fmt::format("{}", fmt::join(wrong, "; "));
  } else {
    check.detail = txts.empty() ? "no TXT record" : fmt::format("{} TXT record(s), none for {}", txts.size(),
                                                              fmt::join(issuers, " or "));
  }
  return check;
}

std::string persist_instruction(const PersistRecord& record) {
  return "create the TXT record " + record.name + " with the value \"" + persist_record_value(record) + "\"";
}

}  // namespace certagent::protocol
