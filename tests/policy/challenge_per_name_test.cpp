// A challenge per name: "challenge" as a list whose entries select names (exact names or
// zones), wildcards only by DNS, and every error at the line and column it is about.
#include <gtest/gtest.h>

#include "policy/challenge_select.hpp"
#include "policy/parse.hpp"
#include "policy/required.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

using test::location_of;

// A custom role with the given https names, and the given "challenge" value.
std::string policy_with(std::string_view challenge, std::string_view names,
                        std::string_view variables = R"({"hosts": ["www.contoso.com"]})") {
  return "{\n\"ca\": {\"directory\": \"https://ca.example.org/dir\"},\n\"challenge\": " + std::string(challenge) +
         ",\n\"variables\": " + std::string(variables) +
         ",\n\"roles\": [\n{\"role\": \"custom\", \"id\": \"web\",\n \"names\": {\"https\": " + std::string(names) +
         "}}\n]\n}\n";
}

const std::string kMixed = R"([
  {"type": "http-01", "listen": ":8080"},
  {"type": "dns-01", "hook": "/usr/local/bin/dns-hook", "zones": ["corp.contoso.com"]},
  {"type": "dns-01", "rfc2136": {"server": "192.0.2.53:53", "key_file": "/etc/k"},
   "names": ["lyncdiscoverinternal.contoso.com", "*.contoso.com"], "zones": ["int.corp.contoso.com"]}
])";

Challenge entry(Challenge::Type type, std::vector<std::string> names, std::vector<std::string> zones,
                std::string at) {
  Challenge c;
  c.type = type;
  c.names = std::move(names);
  c.zones = std::move(zones);
  c.at = std::move(at);
  return c;
}

TEST(ChallengePerName, AListIsReadWithItsSelectorsAndEveryNameHasItsChallenge) {
  auto p = parse_policy(policy_with(kMixed, R"(["www.contoso.com", "a.corp.contoso.com", "b.int.corp.contoso.com",
                                               "lyncdiscoverinternal.contoso.com", "*.contoso.com"])"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->challenges.size(), 3u);
  EXPECT_EQ(p->challenges[0].at, "challenge[0]");
  EXPECT_EQ(p->challenges[0].listen, ":8080");
  EXPECT_EQ(p->challenges[1].zones, std::vector<std::string>{"corp.contoso.com"});
  EXPECT_EQ(p->challenges[2].names, (std::vector<std::string>{"lyncdiscoverinternal.contoso.com", "*.contoso.com"}));
  const auto& c = p->challenges;
  EXPECT_EQ(challenge_index(c, "www.contoso.com"), 0u);                   // the default
  EXPECT_EQ(challenge_index(c, "a.corp.contoso.com"), 1u);                // by zone
  EXPECT_EQ(challenge_index(c, "corp.contoso.com"), 1u);                  // the zone itself
  EXPECT_EQ(challenge_index(c, "b.int.corp.contoso.com"), 2u);            // the longer zone wins
  EXPECT_EQ(challenge_index(c, "lyncdiscoverinternal.contoso.com"), 2u);  // by name
  EXPECT_EQ(challenge_index(c, "*.contoso.com"), 2u);
  EXPECT_EQ(challenge_index(c, "xcorp.contoso.com"), 0u);                 // not under corp.contoso.com
}

TEST(ChallengePerName, ANamedEntryBeatsAZoneAndTheFirstEntryWinsATie) {
  const std::vector<Challenge> c{entry(Challenge::Type::Dns01, {}, {"contoso.com"}, "challenge[0]"),
                                 entry(Challenge::Type::Http01, {"www.contoso.com"}, {}, "challenge[1]"),
                                 entry(Challenge::Type::DnsPersist01, {}, {"contoso.com"}, "challenge[2]")};
  EXPECT_EQ(challenge_for(c, "www.contoso.com"), &c[1]);
  EXPECT_EQ(challenge_for(c, "a.contoso.com"), &c[0]);
  EXPECT_EQ(challenge_for(c, "other.example"), nullptr);  // no default
  EXPECT_EQ(challenge_index(c, "other.example"), 0u);     // a name the policy does not list: the first
}

TEST(ChallengePerName, AWildcardSkipsHttp01EntriesEvenTheDefault) {
  const std::vector<Challenge> c{entry(Challenge::Type::Http01, {}, {}, "challenge[0]"),
                                 entry(Challenge::Type::Dns01, {}, {"contoso.com"}, "challenge[1]")};
  EXPECT_EQ(challenge_for(c, "*.contoso.com"), &c[1]);
  EXPECT_EQ(challenge_for(c, "*.fabrikam.com"), nullptr);
  EXPECT_EQ(challenge_index(c, "*.fabrikam.com"), 1u);  // the first that can validate it
  EXPECT_TRUE(in_zone("*.contoso.com", "contoso.com"));
  EXPECT_FALSE(in_zone("contoso.com", "a.contoso.com"));
}

TEST(ChallengePerName, OneObjectStaysTheChallengeOfEveryName) {
  auto p = parse_policy(policy_with(R"({"type": "dns-01", "hook": "/h"})", R"(["*.contoso.com", "www.contoso.com"])"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->challenges.size(), 1u);
  EXPECT_EQ(p->challenges[0].at, "challenge");
  auto q = parse_policy(policy_with(R"({"type": "http-01"})", R"(["www.contoso.com"])"), "p.json");
  ASSERT_TRUE(q) << q.error().message;
}

TEST(ChallengePerName, NoChallengeKeyMeansHttp01OnPort80) {
  auto p = parse_policy(test::lync_policy(R"("server_fqdn": "se01.contoso.net")"), "p.json");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->challenges.size(), 1u);
  EXPECT_EQ(p->challenges[0].type, Challenge::Type::Http01);
  EXPECT_EQ(p->challenges[0].listen, ":80");
}

TEST(ChallengePerName, RequiredNamesRememberWhereThePolicyAskedForThem) {
  auto p = parse_policy(policy_with(R"({"type": "dns-01", "hook": "/h"})", R"(["{hosts}", "api.contoso.com"])",
                                    R"({"hosts": ["www.contoso.com", "*.contoso.com"]})"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
  const auto certs = required_certificates(*p);
  ASSERT_EQ(certs.size(), 1u);
  ASSERT_EQ(certs[0].names.size(), 3u);
  EXPECT_EQ(certs[0].names[1].name, "*.contoso.com");
  EXPECT_EQ(certs[0].names[1].at, "variables.hosts[1]");        // the value, when the template starts with it
  EXPECT_EQ(certs[0].names[2].at, "roles[0].names.https[1]");   // else the template
}

struct ErrorCase {
  const char* name;
  std::string text;
  std::string at;    // the error points at the first occurrence of this text
  std::string path;
  std::string says;
};

std::vector<ErrorCase> error_cases() {
  const std::string http = R"({"type": "http-01"})";
  return {
      {"a wildcard template with only http-01",
       policy_with(http, R"(["www.contoso.com", "*.contoso.com"])"), "\"*.contoso.com\"]", "roles[0].names.https[1]",
       "'*.contoso.com' (certificate 'web') is a wildcard, which only DNS can validate"},
      {"a wildcard value with only http-01 (the default)",
       "{\n\"ca\": {\"directory\": \"https://ca.example.org/dir\"},\n\"variables\": {\"hosts\": [\"a.contoso.com\", "
       "\"*.contoso.com\"]},\n\"roles\": [{\"role\": \"custom\", \"id\": \"web\", \"names\": {\"https\": "
       "[\"{hosts}\"]}}]\n}\n",
       "\"*.contoso.com\"", "variables.hosts[1]", "no dns-01 or dns-persist-01 challenge answers for it"},
      {"a wildcard outside the dns-01 entry's zones",
       policy_with(R"([{"type": "http-01"}, {"type": "dns-01", "hook": "/h", "zones": ["corp.contoso.com"]}])",
                   R"(["*.fabrikam.com"])"),
       "\"*.fabrikam.com\"", "roles[0].names.https[0]", "\"zones\": [\"fabrikam.com\"]"},
      {"an http-01 entry that names a wildcard",
       policy_with(R"([{"type": "http-01", "names": ["www.contoso.com", "*.contoso.com"]}, {"type": "dns-01", "hook": "/h"}])",
                   R"(["www.contoso.com"])"),
       "\"*.contoso.com\"]}", "challenge[0].names[1]", "http-01 cannot"},
      {"a name no entry selects",
       policy_with(R"([{"type": "dns-01", "hook": "/h", "zones": ["corp.contoso.com"]}])", R"(["web.contoso.com"])"),
       "\"web.contoso.com\"]", "roles[0].names.https[0]", "is not selected by any entry of \"challenge\""},
      {"two defaults",
       policy_with(R"([{"type": "http-01"}, {"type": "dns-01", "hook": "/h"}])", R"(["www.contoso.com"])"),
       "{\"type\": \"dns-01\"", "challenge[1]", "second entry without \"names\" or \"zones\" (challenge[0] is the first)"},
      {"a wildcard zone", policy_with(R"([{"type": "dns-01", "hook": "/h", "zones": ["*.contoso.com"]}, {"type": "http-01"}])",
                                      R"(["www.contoso.com"])"),
       "\"*.contoso.com\"", "challenge[0].zones[0]", "\"contoso.com\" selects it and every name under it"},
      {"selectors in a single object", policy_with(R"({"type": "dns-01", "hook": "/h", "zones": ["contoso.com"]})",
                                                   R"(["www.contoso.com"])"),
       "\"zones\"", "challenge.zones", "write \"challenge\" as a list"},
      {"an empty list", policy_with("[]", R"(["www.contoso.com"])"), "[]", "challenge", "is empty"},
      {"an empty names list", policy_with(R"([{"type": "http-01", "names": []}])", R"(["www.contoso.com"])"),
       "[]}", "challenge[0].names", "is empty"},
      {"an unknown key in an entry", policy_with(R"([{"type": "http-01", "zone": ["a.com"]}])", R"(["www.contoso.com"])"),
       "\"zone\"", "challenge[0].zone", "did you mean 'zones'?"},
  };
}

TEST(ChallengePerName, ErrorsPointAtTheLineAndColumnTheyAreAbout) {
  for (const auto& c : error_cases()) {
    auto p = parse_policy(c.text, "p.json");
    ASSERT_FALSE(p) << c.name;
    const std::string& msg = p.error().message;
    const std::string want = location_of("p.json", c.text, c.at) + c.path + ": ";
    EXPECT_EQ(msg.rfind(want, 0), 0u) << c.name << "\n  want prefix: " << want << "\n  got: " << msg;
    EXPECT_NE(msg.find(c.says), std::string::npos) << c.name << "\n  want: " << c.says << "\n  got: " << msg;
  }
}

}  // namespace
}  // namespace certagent::policy
