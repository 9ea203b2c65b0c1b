#pragma once
// ACME orders, authorizations and challenges (RFC 8555 §7.1.3, §7.1.4, §7.4):
// the objects as the CA describes them, strictly parsed and capped, and the
// verbs that create and fetch them.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/acme/problem.hpp"

namespace certagent::protocol {

inline constexpr size_t kMaxOrderIdentifiers = 1000;  // refuse orders (and answers) larger than this
inline constexpr size_t kMaxChallengesPerAuthorization = 16;

struct Identifier {
  std::string type;  // "dns"
  std::string value;
};

struct Challenge {
  std::string type;
  std::string url;
  std::string status;  // pending, processing, valid, invalid
  std::string token;   // untrusted: checked as base64url before use
  std::optional<Problem> error;
  // dns-persist-01 (draft-ietf-acme-dns-persist §3.1): the CA's issuer domain names and the
  // account URL the record must name ("" when the CA leaves it out). When the CA sent them
  // malformed, `refused` says why and the challenge cannot be answered (the other types still can).
  std::vector<std::string> issuer_domain_names;
  std::string account_uri;
  std::optional<Error> refused;
};

struct Authorization {
  std::string url;
  std::string status;  // pending, valid, invalid, deactivated, expired, revoked
  Identifier identifier;
  bool wildcard = false;
  std::vector<Challenge> challenges;
};

struct Order {
  std::string url;
  std::string status;  // pending, ready, processing, valid, invalid
  std::vector<Identifier> identifiers;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  // once valid
  std::string profile;
  std::optional<Problem> error;
  std::optional<std::chrono::seconds> retry_after;  // the response's Retry-After, for polling
  std::optional<ClockTime> expires;  // "expires" when present and a valid RFC 3339 time (else ignored)
};

[[nodiscard]] Result<Order> parse_order(const boost::json::object& obj, std::string_view url);
[[nodiscard]] Result<Authorization> parse_authorization(const boost::json::object& obj, std::string_view url);
// A challenge object, e.g. the response to a challenge POST (§7.5.1).
[[nodiscard]] Result<Challenge> parse_challenge(const boost::json::object& obj);

inline constexpr size_t kMaxIssuerDomainNames = 10;  // draft-ietf-acme-dns-persist §3.1
// The dns-persist-01 fields of a challenge object (protocol/acme/dns_persist_challenge.cpp):
// "issuer-domain-names" (1 to 10 lower-case DNS names) and an optional https "accounturi";
// Protocol when they are malformed or would not fit in a TXT record's issue-value.
[[nodiscard]] Result<void> parse_dns_persist_fields(const boost::json::object& obj, Challenge& challenge);

struct NewOrder {
  std::vector<std::string> dns_names;
  std::string replaces;  // ARI certID of the certificate this one replaces (sent when the CA offers ARI)
  std::string profile;   // sent when the directory offers it; an error when it does not
};

// newOrder (§7.4). The CA's identifiers must equal the requested names.
[[nodiscard]] Result<Order> new_order(AcmeSession& session, const NewOrder& request);
[[nodiscard]] Result<Order> fetch_order(AcmeSession& session, std::string_view url);
[[nodiscard]] Result<Authorization> fetch_authorization(AcmeSession& session, std::string_view url);

// The identifiers' values, lower-cased and sorted (to compare name sets).
[[nodiscard]] std::vector<std::string> normalized_names(const std::vector<std::string>& names);
[[nodiscard]] std::vector<std::string> identifier_names(const std::vector<Identifier>& ids);

}  // namespace certagent::protocol
