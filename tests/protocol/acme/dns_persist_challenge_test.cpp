// A dns-persist-01 challenge from the CA ends up in a TXT value an operator publishes: its
// fields are checked strictly, a malformed one is refused with a clear error when it is the
// chosen type, and the authorization's other challenges stay usable.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "protocol/acme/authorize.hpp"
#include "protocol/acme/order.hpp"

namespace certagent::protocol {
namespace {

const std::string kPebble = R"("type":"dns-persist-01","url":"https://ca.test/chal/p","status":"pending")";

std::string authz_json(const std::string& persist_fields, const std::string& identifier = "a.example",
                       bool wildcard = false) {
  return R"({"status":"pending","identifier":{"type":"dns","value":")" + identifier + R"("},)" +
         (wildcard ? R"("wildcard":true,)" : "") +
         R"("challenges":[{"type":"http-01","url":"https://ca.test/chal/h","status":"pending","token":"tok_1"},)"
         "{" + kPebble + persist_fields + "}]}";
}

Result<Authorization> parse(const std::string& text) {
  return parse_authorization(boost::json::parse(text).as_object(), "https://ca.test/authz/1");
}

Order order_for(const std::string& name) {
  Order o;
  o.url = "https://ca.test/order/1";
  o.status = "pending";
  o.identifiers = {Identifier{"dns", name}};
  return o;
}

TEST(DnsPersistChallenge, PebblesChallengeIsReadWithItsIssuerNamesAndAccount) {
  auto a = parse(authz_json(R"(,"issuer-domain-names":["pebble.letsencrypt.org"],"accounturi":"https://127.0.0.1:14000/my-account/1")"));
  ASSERT_TRUE(a) << a.error().message;
  const auto& c = a->challenges.at(1);
  EXPECT_FALSE(c.refused);
  EXPECT_EQ(c.issuer_domain_names, std::vector<std::string>{"pebble.letsencrypt.org"});
  EXPECT_EQ(c.account_uri, "https://127.0.0.1:14000/my-account/1");

  auto tasks = challenge_tasks(order_for("a.example"), {*a}, "dns-persist-01", "thumb", nullptr);
  ASSERT_TRUE(tasks) << tasks.error().message;  // no token: none is asked for
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ(tasks->front().type, "dns-persist-01");
  EXPECT_EQ(tasks->front().account_uri, "https://127.0.0.1:14000/my-account/1");
  EXPECT_FALSE(tasks->front().wildcard);
}

TEST(DnsPersistChallenge, AWildcardAuthorizationMarksTheTask) {
  auto a = parse(authz_json(R"(,"issuer-domain-names":["ca.example"])", "a.example", true));
  ASSERT_TRUE(a) << a.error().message;
  auto tasks = challenge_tasks(order_for("*.a.example"), {*a}, "dns-persist-01", "thumb", nullptr);
  ASSERT_TRUE(tasks) << tasks.error().message;
  EXPECT_TRUE(tasks->front().wildcard);
  EXPECT_EQ(tasks->front().account_uri, "");  // pebble < 2.10.1 sends none: the session's URL is used
}

TEST(DnsPersistChallenge, HostileFieldsAreRefusedWithAClearErrorAndHttp01StaysUsable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no \"issuer-domain-names\" array"},
      {R"(,"issuer-domain-names":"ca.example")", "no \"issuer-domain-names\" array"},
      {R"(,"issuer-domain-names":[])", "has 0 entries (1 to 10 allowed)"},
      {R"(,"issuer-domain-names":["a.ex","b.ex","c.ex","d.ex","e.ex","f.ex","g.ex","h.ex","i.ex","j.ex","k.ex"])",
       "has 11 entries"},
      {R"(,"issuer-domain-names":[42])", "is not a string"},
      {R"(,"issuer-domain-names":["ca.example; accounturi=https://evil.example/acct/1"])",
       "is not a lower-case DNS name"},
      {R"(,"issuer-domain-names":["CA.example"])", "is not a lower-case DNS name"},
      {R"(,"issuer-domain-names":["*.ca.example"])", "is not a lower-case DNS name"},
      {R"(,"issuer-domain-names":["ca.example\u001b[2J"])", "is not a lower-case DNS name"},
      {R"(,"issuer-domain-names":["ca.example"],"accounturi":7)", "\"accounturi\" is not a string"},
      {R"(,"issuer-domain-names":["ca.example"],"accounturi":"https://ca.example/a; policy=wildcard")",
       "is not an https URL that fits"},
      {R"(,"issuer-domain-names":["ca.example"],"accounturi":"http://ca.example/acct/1")",
       "is not an https URL that fits"},
  };
  for (const auto& [fields, says] : cases) {
    auto a = parse(authz_json(fields));
    ASSERT_TRUE(a) << fields << ": " << a.error().message;
    ASSERT_TRUE(a->challenges.at(1).refused) << fields;
    auto persist = challenge_tasks(order_for("a.example"), {*a}, "dns-persist-01", "thumb", nullptr);
    ASSERT_FALSE(persist) << fields;
    EXPECT_EQ(persist.error().kind, ErrorKind::Protocol);
    EXPECT_NE(persist.error().message.find("the CA's dns-persist-01 challenge is malformed"), std::string::npos)
        << persist.error().message;
    EXPECT_NE(persist.error().message.find(says), std::string::npos) << fields << " -> " << persist.error().message;
    EXPECT_NE(persist.error().message.find("for a.example"), std::string::npos) << persist.error().message;
    EXPECT_EQ(persist.error().message.find('\x1b'), std::string::npos);
    auto http = challenge_tasks(order_for("a.example"), {*a}, "http-01", "thumb", nullptr);
    EXPECT_TRUE(http) << fields;
  }
}

}  // namespace
}  // namespace certagent::protocol
