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

}  // namespace
}  // namespace certagent::agent
