#include <gtest/gtest.h>

#include <algorithm>

#include "policy/parse.hpp"
#include "policy/required.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

using Names = std::vector<std::string>;
using test::lync_policy;

Policy parsed(const std::string& text) {
  auto p = parse_policy(text, "t.json");
  EXPECT_TRUE(p) << p.error().message;
  return p ? *p : Policy{};
}

Names names_of(const RequiredCertificate& c) {
  Names out;
  for (const auto& n : c.names) out.push_back(n.name);
  return out;
}

const RequiredName* find(const RequiredCertificate& c, std::string_view name) {
  for (const auto& n : c.names)
    if (n.name == name) return &n;
  return nullptr;
}

const std::string kEnterprise = R"({
  "ca": {"directory": "https://ca.contoso.net/d"},
  "sip_domains": ["contoso.com", "fabrikam.com"],
  "roles": [{
    "role": "front-end-enterprise", "pool_fqdn": "pool01.contoso.net", "server_fqdn": "fe01.contoso.net",
    "simple_urls": {"meet": "meet.contoso.com", "dialin": "dialin.contoso.com", "admin": "admin.contoso.com"},
    "web_services": {"internal": "webpool01.contoso.net", "external": "webpool01.contoso.com"},
    "layout": "LAYOUT"
  }]
})";

std::string enterprise(std::string_view layout) {
  std::string s = kEnterprise;
  return s.replace(s.find("LAYOUT"), 6, layout);
}

TEST(Required, SeparateCertificatesCarryTheNamesOfTheirPurpose) {
  auto certs = required_certificates(parsed(enterprise("separate")));
  ASSERT_EQ(certs.size(), 3u);
  EXPECT_EQ(certs[0].id, "front-end-default");
  EXPECT_EQ(certs[0].purposes, Names{"Default"});
  EXPECT_EQ(names_of(certs[0]), (Names{"pool01.contoso.net", "fe01.contoso.net"}));
  EXPECT_EQ(certs[1].id, "front-end-webservicesinternal");
  EXPECT_EQ(names_of(certs[1]),
            (Names{"webpool01.contoso.net", "fe01.contoso.net", "meet.contoso.com", "dialin.contoso.com",
                   "admin.contoso.com", "lyncdiscoverinternal.contoso.com", "lyncdiscoverinternal.fabrikam.com"}));
  EXPECT_EQ(certs[2].id, "front-end-webservicesexternal");
  EXPECT_EQ(names_of(certs[2]), (Names{"webpool01.contoso.com", "meet.contoso.com", "dialin.contoso.com",
                                       "lyncdiscover.contoso.com", "lyncdiscover.fabrikam.com"}));
  for (const auto& c : certs) EXPECT_EQ(c.layout, Layout::Separate);
}

TEST(Required, ASharedCertificateCarriesTheUnionPoolFirst) {
  auto certs = required_certificates(parsed(enterprise("shared")));
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0].id, "front-end");
  EXPECT_EQ(certs[0].purposes, (Names{"Default", "WebServicesInternal", "WebServicesExternal"}));
  EXPECT_EQ(names_of(certs[0]),
            (Names{"pool01.contoso.net", "fe01.contoso.net", "webpool01.contoso.net", "meet.contoso.com",
                   "dialin.contoso.com", "admin.contoso.com", "lyncdiscoverinternal.contoso.com",
                   "lyncdiscoverinternal.fabrikam.com", "webpool01.contoso.com", "lyncdiscover.contoso.com",
                   "lyncdiscover.fabrikam.com"}));
  EXPECT_EQ(find(certs[0], "meet.contoso.com")->rules, Names{"simple-url"});
  EXPECT_EQ(find(certs[0], "fe01.contoso.net")->rules, Names{"server"});
}

TEST(Required, TheSameNameFromTwoRulesIsListedOnceWithBothRules) {
  // A Standard Edition server is its own pool, and its internal web services
  // name defaults to the pool's: one name, three rules.
  auto certs = required_certificates(parsed(lync_policy(R"("server_fqdn": "se01.contoso.net", "layout": "shared")")));
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0].names.front().name, "se01.contoso.net");
  EXPECT_EQ(certs[0].names.front().rules, (Names{"pool", "server", "web-services"}));
  EXPECT_EQ(std::count_if(certs[0].names.begin(), certs[0].names.end(),
                          [](const auto& n) { return n.name == "se01.contoso.net"; }),
            1);
}

TEST(Required, UpperCaseAndTrailingDotsAreNormalisedAndDeduplicated) {
  auto certs = required_certificates(parsed(lync_policy(
      R"("server_fqdn": "SE01.Contoso.NET.", "simple_urls": {"meet": ["Meet.Contoso.com", "meet.contoso.com."]})",
      R"("sip_domains": ["Contoso.COM.", "contoso.com"],)")));
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(names_of(certs[0]), (Names{"se01.contoso.net", "meet.contoso.com", "lyncdiscoverinternal.contoso.com",
                                       "lyncdiscover.contoso.com"}));
}

TEST(Required, FiftySipDomainsGiveOneHundredAutodiscoverNames) {
  std::string domains;
  for (int i = 0; i < 50; ++i) domains += (i ? ", " : "") + std::string("\"d") + std::to_string(i) + ".example\"";
  std::string text = lync_policy(R"("server_fqdn": "se01.contoso.net")", "\"sip_domains\": [" + domains + "],");
  const std::string dir = R"("directory": "https://ca.contoso.net/acme/directory")";
  text.replace(text.find(dir), dir.size(), dir + R"(, "max_names": 101)");  // one over the default
  auto certs = required_certificates(parsed(text));
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0].names.size(), 101u);  // the server (pool) name + 2 x 50
  for (int i = 0; i < 50; ++i) {
    const std::string d = "d" + std::to_string(i) + ".example";
    EXPECT_TRUE(find(certs[0], "lyncdiscover." + d)) << d;
    EXPECT_TRUE(find(certs[0], "lyncdiscoverinternal." + d)) << d;
  }
}

TEST(Required, TheExplicitListReplacesTheSipDomains) {
  auto certs = required_certificates(parsed(lync_policy(
      R"("server_fqdn": "se01.contoso.net", "autodiscover": ["contoso.net"])",
      R"("sip_domains": ["contoso.com", "fabrikam.com"],)")));
  EXPECT_EQ(names_of(certs[0]), (Names{"se01.contoso.net", "lyncdiscoverinternal.contoso.net",
                                       "lyncdiscover.contoso.net"}));
  auto none = required_certificates(parsed(lync_policy(R"("server_fqdn": "se01.contoso.net", "autodiscover": [])", "")));
  EXPECT_EQ(names_of(none[0]), (Names{"se01.contoso.net"}));
}

TEST(Required, AutoLayoutFollowsWhatIsBoundAndNeverCollapsesSeparateCertificates) {
  const Policy p = parsed(enterprise("auto"));
  EXPECT_EQ(required_certificates(p).size(), 1u);  // nothing bound: Lync's default, shared
  EXPECT_EQ(required_certificates(p, {{"Default", "AA"}, {"WebServicesInternal", "AA"}, {"WebServicesExternal", "AA"}})
                .size(),
            1u);
  auto split = required_certificates(p, {{"Default", "AA"}, {"WebServicesInternal", "BB"}, {"WebServicesExternal", "AA"}});
  ASSERT_EQ(split.size(), 3u);
  for (const auto& c : split) EXPECT_EQ(c.purposes.size(), 1u);
  // explicit layouts win over what is bound
  EXPECT_EQ(required_certificates(parsed(enterprise("shared")), {{"Default", "AA"}, {"WebServicesInternal", "BB"}}).size(), 1u);
  EXPECT_EQ(required_certificates(parsed(enterprise("separate")), {{"Default", "AA"}, {"WebServicesInternal", "AA"}}).size(), 3u);
}

TEST(Required, DirectorAndReverseProxy) {
  auto director = required_certificates(parsed(lync_policy(
      R"("server_fqdn": "dir01.contoso.net", "pool_fqdn": "dirpool.contoso.net", "layout": "separate")")
      .replace(lync_policy("").find("front-end-standard"), 18, "director")));
  ASSERT_EQ(director.size(), 3u);
  EXPECT_EQ(director[0].id, "director-default");
  EXPECT_EQ(names_of(director[0]), (Names{"dirpool.contoso.net", "dir01.contoso.net"}));
  EXPECT_EQ(names_of(director[1]), (Names{"dirpool.contoso.net", "dir01.contoso.net", "lyncdiscoverinternal.contoso.com"}));

  auto proxy = required_certificates(parsed(lync_policy(
      R"("web_services": {"external": ["webpool01.contoso.com", "dirweb.contoso.com"]}, "simple_urls": {"meet": "meet.contoso.com"})")
      .replace(lync_policy("").find("front-end-standard"), 18, "reverse-proxy")));
  ASSERT_EQ(proxy.size(), 1u);
  EXPECT_EQ(proxy[0].id, "reverse-proxy");
  EXPECT_EQ(proxy[0].purposes, Names{"ReverseProxy"});
  EXPECT_EQ(names_of(proxy[0]), (Names{"webpool01.contoso.com", "dirweb.contoso.com", "meet.contoso.com",
                                       "lyncdiscover.contoso.com"}));
}

TEST(Required, OverridesReplaceOrExtendAPurposeAndKeysFollowTheRole) {
  auto certs = required_certificates(parsed(lync_policy(
      R"("server_fqdn": "se01.contoso.net", "layout": "separate", "key": "rsa-3072",
         "names": {"WebServicesExternal": ["ext.{sip_domains}"]},
         "extra_names": {"Default": [{"name": "sip.{sip_domains}", "rule": "sip-autoconfig"}]})",
      R"("sip_domains": ["contoso.com"], "key": "ec-p384",)")));
  ASSERT_EQ(certs.size(), 3u);
  EXPECT_EQ(names_of(certs[0]), (Names{"se01.contoso.net", "sip.contoso.com"}));
  EXPECT_EQ(find(certs[0], "sip.contoso.com")->rules, Names{"sip-autoconfig"});
  EXPECT_EQ(names_of(certs[2]), Names{"ext.contoso.com"});
  EXPECT_EQ(find(certs[2], "ext.contoso.com")->rules, Names{"roles[0].names.WebServicesExternal[0]"});
  for (const auto& c : certs) EXPECT_EQ(c.key, KeyType::Rsa3072);
}

}  // namespace
}  // namespace certagent::policy
