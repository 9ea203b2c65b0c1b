#pragma once
// The dns-persist-01 validation record (draft-ietf-acme-dns-persist §3): one TXT record at
// `_validation-persist.<name>` whose value is an RFC 8659 issue-value naming the CA and the
// ACME account, e.g. "letsencrypt.org; accounturi=https://ca.example/acct/1; policy=wildcard".
// Pure: formatting, parsing and the verdict on what DNS returned.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace certagent::protocol {

inline constexpr std::string_view kPersistLabel = "_validation-persist";

// What the CA expects to find for one name.
struct PersistRecord {
  std::string name;           // the record's owner: _validation-persist.<name without "*.">
  std::string issuer_domain;  // one of the CA's issuer domain names
  std::string account_uri;    // the ACME account URL (§7.3), unchanged by a key rollover
  bool wildcard = false;      // a wildcard name needs policy=wildcard
};

// The record the CA expects for `dns_name` ("*.example.com" asks for policy=wildcard).
[[nodiscard]] PersistRecord expected_persist_record(std::string_view dns_name, std::string issuer_domain,
                                                    std::string account_uri);
// The TXT value: "<issuer>; accounturi=<url>" and "; policy=wildcard" when needed.
[[nodiscard]] std::string persist_record_value(const PersistRecord& record);

// One TXT value read back, as RFC 8659 §4.2 issue-value: tags are case-insensitive and
// unique, values free of whitespace, ';' and non-ASCII.
struct IssueValue {
  std::string issuer_domain;
  std::string account_uri;               // "" when absent
  std::string policy;                    // lower case; "" when absent or not "wildcard"
  std::optional<long long> persist_until;  // Unix seconds
};
[[nodiscard]] Result<IssueValue> parse_issue_value(std::string_view txt);

enum class PersistVerdict {
  Present,  // a record authorizes the name for this CA and account
  Missing,  // no TXT record names this CA
  Wrong,    // a record names this CA but another account, no wildcard policy, is malformed or expired
};
[[nodiscard]] std::string_view to_string(PersistVerdict v);

struct PersistCheck {
  PersistRecord expected;
  PersistVerdict verdict = PersistVerdict::Missing;
  std::string detail;  // why, for Missing and Wrong
};

// The verdict on the TXT values found at expected.name, as the CA would give it: a record
// counts when its issuer is one of `issuer_domains` (the CA's; expected.issuer_domain when
// empty). `now_unix` decides persistUntil.
[[nodiscard]] PersistCheck check_persist_record(const PersistRecord& expected, const std::vector<std::string>& txts,
                                                const std::vector<std::string>& issuer_domains, long long now_unix);

// "create the TXT record _validation-persist.a.example with the value "..."" — for errors.
[[nodiscard]] std::string persist_instruction(const PersistRecord& record);

}  // namespace certagent::protocol
