// The Lync guide's Request-CsCertificate examples (steps 12 and 13) as `certagent request`
// against pebble: each yields exactly the Autodiscover names the guide describes for its case,
// and the certificate can be assigned to every requested type (issue 22 item 4). The policy
// has the guide's two SIP domains, contoso.com and contoso.net.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "engine_support.hpp"

namespace certagent::integration {
namespace {

using ::testing::HasSubstr;
using Names = std::set<std::string>;

std::string describe(const ProcessOutcome& r) { return "stdout:\n" + r.out + "\nstderr:\n" + r.err; }

struct GuideExample {
  const char* name;
  const char* layout;                 // shared (step 12) or separate (step 13)
  std::vector<std::string> args;      // after `request`
  std::vector<std::string> purposes;  // the types, each checked after --assign
  Names autodiscover;                 // exactly the lyncdiscover* names on the certificate
  std::string says;                   // on stderr, when not empty
};

std::vector<GuideExample> examples() {
  const Names internal{"lyncdiscoverinternal.contoso.com", "lyncdiscoverinternal.contoso.net"};
  const Names external{"lyncdiscover.contoso.com", "lyncdiscover.contoso.net"};
  Names both = internal;
  both.insert(external.begin(), external.end());
  const std::vector<std::string> all3{"Default", "WebServicesInternal", "WebServicesExternal"};
  return {
      // Step 12: Request-CsCertificate -New -Type Default,WebServicesInternal,WebServicesExternal -AllSipDomain
      {"step12_shared_all_sip_domains", "shared",
       {"--type", "Default,WebServicesInternal,WebServicesExternal", "--all-sip-domains"}, all3, both, ""},
      // Step 12: ... -DomainName "LyncdiscoverInternal.contoso.com, LyncdiscoverInternal.contoso.net": the shared
      // certificate also serves WebServicesExternal, so certagent adds the external names and says so.
      {"step12_shared_domain_name", "shared",
       {"--type", "Default,WebServicesInternal,WebServicesExternal", "--domain-name",
        "LyncdiscoverInternal.contoso.com, LyncdiscoverInternal.contoso.net"},
       all3, both, "added lyncdiscover.contoso.com, lyncdiscover.contoso.net: WebServicesExternal and "},
      // Step 13: -Type WebServicesInternal -AllSipDomain / -DomainName "LyncdiscoverInternal.contoso.com, ...net"
      {"step13_internal_all_sip_domains", "separate", {"--type", "WebServicesInternal", "--all-sip-domains"},
       {"WebServicesInternal"}, internal, ""},
      {"step13_internal_domain_name", "separate",
       {"--type", "WebServicesInternal", "--domain-name", "LyncdiscoverInternal.contoso.com, LyncdiscoverInternal.contoso.net"},
       {"WebServicesInternal"}, internal, ""},
      // Step 13: -Type WebServicesExternal -AllSipDomain / -DomainName "Lyncdiscover.contoso.com, Lyncdiscover.contoso.net"
      {"step13_external_all_sip_domains", "separate", {"--type", "WebServicesExternal", "--all-sip-domains"},
       {"WebServicesExternal"}, external, ""},
      {"step13_external_domain_name", "separate",
       {"--type", "WebServicesExternal", "--domain-name", "Lyncdiscover.contoso.com, Lyncdiscover.contoso.net"},
       {"WebServicesExternal"}, external, ""},
  };
}

class GuideExamples : public ::testing::TestWithParam<GuideExample> {};

TEST_P(GuideExamples, RequestYieldsTheGuidesAutodiscoverNamesAndAssignsToEveryType) {
  const auto& ex = GetParam();
  EngineSandbox box;
  PoolPolicy policy = pool(ex.layout);
  policy.sip_domains = {"contoso.com", "contoso.net"};
  box.write_policy(policy);
  std::vector<std::string> args{"request"};
  args.insert(args.end(), ex.args.begin(), ex.args.end());
  args.push_back("--assign");
  auto r = box.certagent(args);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  if (!ex.says.empty()) {
    EXPECT_THAT(r.err, HasSubstr(ex.says));
  }
  const auto certs = box.certs();
  for (const auto& purpose : ex.purposes) {
    const auto& c = certs.at(purpose);
    Names autodiscover;
    for (const auto& n : names_of(c))
      if (n.starts_with("lyncdiscover")) autodiscover.insert(n);
    EXPECT_EQ(autodiscover, ex.autodiscover) << purpose;
    EXPECT_TRUE(c.at("missing").as_array().empty()) << purpose << " lacks names: " << boost::json::serialize(c);
  }
}

INSTANTIATE_TEST_SUITE_P(Guide, GuideExamples, ::testing::ValuesIn(examples()),
                         [](const ::testing::TestParamInfo<GuideExample>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace certagent::integration
