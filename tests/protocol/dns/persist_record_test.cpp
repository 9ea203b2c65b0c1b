// The dns-persist-01 record: its name and value, RFC 8659 issue-value parsing, and the
// verdict on what DNS returned, as pebble 2.10.3's VA decides it.
#include <gtest/gtest.h>

#include "protocol/dns/persist_record.hpp"

namespace certagent::protocol {
namespace {

const std::string kAcct = "https://ca.example/acme/acct/42";

TEST(PersistRecord, NameAndValueForAName) {
  auto r = expected_persist_record("www.example.com", "ca.example", kAcct);
  EXPECT_EQ(r.name, "_validation-persist.www.example.com");
  EXPECT_FALSE(r.wildcard);
  EXPECT_EQ(persist_record_value(r), "ca.example; accounturi=https://ca.example/acme/acct/42");
  EXPECT_EQ(persist_instruction(r), "create the TXT record _validation-persist.www.example.com with the value "
                                    "\"ca.example; accounturi=https://ca.example/acme/acct/42\"");
}

TEST(PersistRecord, AWildcardNameUsesTheBaseNameAndAsksForPolicyWildcard) {
  auto r = expected_persist_record("*.example.com", "ca.example", kAcct);
  EXPECT_EQ(r.name, "_validation-persist.example.com");
  EXPECT_TRUE(r.wildcard);
  EXPECT_EQ(persist_record_value(r), "ca.example; accounturi=https://ca.example/acme/acct/42; policy=wildcard");
}

TEST(PersistRecord, IssueValueTagsAreCaseInsensitiveAndWhitespaceTolerant) {
  auto v = parse_issue_value(" CA.Example ;\tAccountURI=" + kAcct + " ; Policy=WILDCARD ; persistUntil=1700000000; x=y");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->issuer_domain, "ca.example");
  EXPECT_EQ(v->account_uri, kAcct);
  EXPECT_EQ(v->policy, "wildcard");
  EXPECT_EQ(v->persist_until, 1700000000);
}

TEST(PersistRecord, AnotherPolicyValueCountsAsAbsent) {
  auto v = parse_issue_value("ca.example; accounturi=" + kAcct + "; policy=everything");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->policy, "");
}

TEST(PersistRecord, MalformedIssueValuesAreRefusedWithTheReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"; accounturi=" + kAcct, "no issuer domain name"},
      {"ca.example; accounturi=" + kAcct + ";", "an empty parameter"},
      {"ca.example;; accounturi=" + kAcct, "an empty parameter"},
      {"ca.example; accounturi", "is not tag=value"},
      {"ca.example; =x", "has no tag"},
      {"ca.example; accounturi=a; AccountUri=b", "appears twice"},
      {"ca.example; accounturi=a b", "whitespace or non-ASCII"},
      {"ca.example; accounturi=h\xc3\xa9", "whitespace or non-ASCII"},
      {"ca.example; accounturi=", "accounturi is empty"},
      {"ca.example; accounturi=a; persistUntil=soon", "is not a Unix time"},
  };
  for (const auto& [txt, says] : cases) {
    auto v = parse_issue_value(txt);
    ASSERT_FALSE(v) << txt;
    EXPECT_NE(v.error().message.find(says), std::string::npos) << txt << " -> " << v.error().message;
  }
}

struct VerdictCase {
  const char* what;
  std::string name;
  std::vector<std::string> txts;
  PersistVerdict verdict;
  std::string detail;
};

TEST(PersistRecord, TheVerdictOnWhatDnsHolds) {
  const std::vector<VerdictCase> cases = {
      {"exact", "a.example", {"ca.example; accounturi=" + kAcct}, PersistVerdict::Present, ""},
      {"beside other records", "a.example", {"v=spf1 -all", "other.example; accounturi=x", "ca.example;accounturi=" + kAcct},
       PersistVerdict::Present, ""},
      {"issuer case", "a.example", {"CA.EXAMPLE; accounturi=" + kAcct}, PersistVerdict::Present, ""},
      {"a wildcard record serves a plain name", "a.example", {"ca.example; accounturi=" + kAcct + "; policy=wildcard"},
       PersistVerdict::Present, ""},
      {"not yet expired", "a.example", {"ca.example; accounturi=" + kAcct + "; persistUntil=2000"}, PersistVerdict::Present, ""},
      {"nothing", "a.example", {}, PersistVerdict::Missing, "no TXT record"},
      {"another CA only", "a.example", {"other.example; accounturi=" + kAcct}, PersistVerdict::Missing, "none for ca.example"},
      {"another account", "a.example", {"ca.example; accounturi=https://ca.example/acme/acct/7"}, PersistVerdict::Wrong,
       "names another account"},
      {"no account", "a.example", {"ca.example"}, PersistVerdict::Wrong, "has no accounturi"},
      {"wildcard without policy", "*.a.example", {"ca.example; accounturi=" + kAcct}, PersistVerdict::Wrong,
       "lacks policy=wildcard"},
      {"expired", "a.example", {"ca.example; accounturi=" + kAcct + "; persistUntil=999"}, PersistVerdict::Wrong,
       "expired (persistUntil)"},
      {"malformed", "a.example", {"ca.example; accounturi=" + kAcct + ";"}, PersistVerdict::Wrong, "is malformed"},
  };
  for (const auto& c : cases) {
    auto expected = expected_persist_record(c.name, "ca.example", kAcct);
    auto check = check_persist_record(expected, c.txts, {}, 1000);
    EXPECT_EQ(check.verdict, c.verdict) << c.what << ": " << check.detail;
    EXPECT_NE(check.detail.find(c.detail), std::string::npos) << c.what << ": " << check.detail;
  }
}

TEST(PersistRecord, ARecordForAnyOfTheCasIssuerNamesCounts) {
  auto expected = expected_persist_record("a.example", "ca.example", kAcct);
  auto check = check_persist_record(expected, {"alt.ca.example; accounturi=" + kAcct}, {"ca.example", "alt.ca.example"}, 0);
  EXPECT_EQ(check.verdict, PersistVerdict::Present) << check.detail;
}

}  // namespace
}  // namespace certagent::protocol
