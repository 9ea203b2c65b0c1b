#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/cli/plan_report.hpp"

namespace certagent::agent {
namespace {

policy::Action rebind_action() {
  policy::Action a;
  a.certificate.id = "front-end";
  a.certificate.purposes = {"Default", "WebServicesInternal"};
  a.certificate.names = {{"pool01.contoso.net", {"pool", "web-services"}}, {"lyncdiscoverinternal.contoso.com", {"autodiscover-internal"}}};
  a.kind = policy::ActionKind::Rebind;
  a.reason = "stored certificate AA already carries exactly the 2 names; bind Default to it";
  a.thumbprint = "AA";
  a.rebind = {"Default"};
  return a;
}

TEST(PlanReport, JsonKeepsTheDocumentedFieldsAndAddsDetails) {
  auto v = plan_json({rebind_action()});
  const auto& c = v.at("certificates").as_array().at(0);
  for (const char* key : {"id", "purposes", "names", "action", "reason", "missing", "extra", "rules", "thumbprint", "rebind"})
    EXPECT_TRUE(c.as_object().contains(key)) << key;
  EXPECT_EQ(c.at("action"), "rebind");
  EXPECT_EQ(c.at("rebind"), boost::json::array({"Default"}));
  EXPECT_EQ(c.at("rules").at("pool01.contoso.net"), boost::json::array({"pool", "web-services"}));
  EXPECT_FALSE(c.as_object().contains("renewal_due"));
}

TEST(PlanReport, TableShowsReasonsAndWithVerbosityTheRules) {
  auto plain = plan_table({rebind_action()}, 0);
  EXPECT_NE(plain.find("front-end    rebind   Default,WebServicesInternal"), std::string::npos) << plain;
  EXPECT_NE(plain.find("  stored certificate AA"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("pool, web-services"), std::string::npos);
  auto verbose = plan_table({rebind_action()}, 1);
  EXPECT_NE(verbose.find("pool01.contoso.net                pool, web-services"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("pool: Pool name for this pool"), std::string::npos) << verbose;
}

// A challenge per name: -v and --json say, for every name, the challenge that will validate it.
TEST(PlanReport, VerboseAndJsonShowTheChallengeOfEachName) {
  policy::Challenge http, dns;
  http.at = "challenge[0]";
  dns.type = policy::Challenge::Type::Dns01;
  dns.names = {"lyncdiscoverinternal.contoso.com"};
  dns.at = "challenge[1]";
  const std::vector<policy::Challenge> challenges{http, dns};
  auto verbose = plan_table({rebind_action()}, 1, challenges);
  EXPECT_NE(verbose.find("pool01.contoso.net                http-01 (challenge[0])  pool, web-services"),
            std::string::npos) << verbose;
  EXPECT_NE(verbose.find("lyncdiscoverinternal.contoso.com  dns-01 (challenge[1])   autodiscover-internal"),
            std::string::npos) << verbose;
  auto v = plan_json({rebind_action()}, challenges);
  const auto& c = v.at("certificates").as_array().at(0);
  EXPECT_EQ(c.at("challenges").at("pool01.contoso.net"), "http-01");
  EXPECT_EQ(c.at("challenges").at("lyncdiscoverinternal.contoso.com"), "dns-01");
  // One challenge for every name: the type alone.
  auto one = plan_table({rebind_action()}, 1, {http});
  EXPECT_NE(one.find("pool01.contoso.net                http-01  pool, web-services"), std::string::npos) << one;
}

}  // namespace
}  // namespace certagent::agent
