// ca.max_names: a certificate the policy needs with more names than the CA takes is refused
// when the policy is read, at the value that makes it so, with the count per purpose and the
// guide's answer (issue 22 item 2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "policy/parse.hpp"
#include "policy/required.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

using ::testing::HasSubstr;
using test::location_of;
using test::lync_policy;

std::string sip_domains(int n) {
  std::string out = R"("sip_domains": [)";
  for (int i = 0; i < n; ++i) out += fmt::format("{}\"d{}.example\"", i ? ", " : "", i);
  return out + "],";
}

std::string policy_with(int domains, std::string_view role = R"("server_fqdn": "se01.contoso.net")",
                        std::string_view ca_extra = "") {
  std::string text = lync_policy(role, sip_domains(domains));
  if (!ca_extra.empty()) {
    const std::string dir = R"("directory": "https://ca.contoso.net/acme/directory")";
    text.replace(text.find(dir), dir.size(), dir + ", " + std::string(ca_extra));
  }
  return text;
}

TEST(NameLimit, SixtySipDomainsOnASharedCertificateAreRefusedAtTheSipDomainsWithTheCountAndTheAdvice) {
  const std::string text = policy_with(60);
  auto p = parse_policy(text, "p.json");
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message, HasSubstr(location_of("p.json", text, "[\"d0")));
  EXPECT_THAT(p.error().message, HasSubstr("sip_domains: certificate 'front-end' would carry"));
  EXPECT_THAT(p.error().message, HasSubstr("60 SIP domain(s)"));
  EXPECT_THAT(p.error().message, HasSubstr("ca.max_names: 100, the default"));
  EXPECT_THAT(p.error().message, HasSubstr("WebServicesInternal 6"));  // the count per purpose
  EXPECT_THAT(p.error().message, HasSubstr("\"autodiscover\": [\"contoso.com\", ...]"));
  EXPECT_THAT(p.error().message, HasSubstr("you must use DomainName parameter"));
}

TEST(NameLimit, ThirtySipDomainsFitTheDefaultAndTheCountIsTheCertificatesNames) {
  auto p = parse_policy(policy_with(30), "p.json");
  ASSERT_TRUE(p) << p.error().message;
  const auto certs = required_certificates(*p);
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_LE(certs[0].names.size(), 100u);
  EXPECT_GT(certs[0].names.size(), 60u);
}

TEST(NameLimit, AnExplicitAutodiscoverListMakesSixtySipDomainsFit) {
  auto p = parse_policy(policy_with(60, R"("server_fqdn": "se01.contoso.net", "autodiscover": ["d0.example", "d1.example"])"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
}

TEST(NameLimit, ALowerCaLimitIsReportedAtTheRolesAutodiscoverListWhenThatIsWhereTheNamesComeFrom) {
  const std::string text =
      policy_with(3, R"("server_fqdn": "se01.contoso.net", "autodiscover": ["d2.example", "d1.example", "d0.example"])",
                  R"("max_names": 5)");
  auto p = parse_policy(text, "p.json");
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message, HasSubstr(location_of("p.json", text, "[\"d2.example\"")));
  EXPECT_THAT(p.error().message, HasSubstr("roles[0].autodiscover: certificate 'front-end'"));
  EXPECT_THAT(p.error().message, HasSubstr("(ca.max_names: 5)"));
}

TEST(NameLimit, SeparateCertificatesAreSuggestedOnlyWhenEachPurposeWouldFit) {
  // 60 domains: 60 lyncdiscover names on one purpose, 60 lyncdiscoverinternal on another, each under 100.
  auto fits_apart = parse_policy(policy_with(60), "p.json");
  ASSERT_FALSE(fits_apart);
  EXPECT_THAT(fits_apart.error().message, HasSubstr("\"layout\": \"separate\""));
  auto too_many_anyway = parse_policy(policy_with(120), "p.json");
  ASSERT_FALSE(too_many_anyway);
  EXPECT_THAT(too_many_anyway.error().message, ::testing::Not(HasSubstr("\"layout\": \"separate\"")));
}

TEST(NameLimit, SeparateLayoutChecksEachCertificateOnItsOwn) {
  auto p = parse_policy(policy_with(60, R"("server_fqdn": "se01.contoso.net", "layout": "separate")"), "p.json");
  ASSERT_TRUE(p) << p.error().message;
}

TEST(NameLimit, MaxNamesOutsideOneToOneThousandIsRefusedAtItsValue) {
  for (const std::string bad : {"0", "1001", "\"many\""}) {
    const std::string text = policy_with(1, R"("server_fqdn": "se01.contoso.net")", R"("max_names": )" + bad);
    auto p = parse_policy(text, "p.json");
    ASSERT_FALSE(p) << bad;
    EXPECT_THAT(p.error().message, HasSubstr(location_of("p.json", text, bad))) << bad;
    EXPECT_THAT(p.error().message, HasSubstr("ca.max_names")) << bad;
  }
  auto ok = parse_policy(policy_with(1, R"("server_fqdn": "se01.contoso.net")", R"("max_names": 250)"), "p.json");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->ca.max_names, 250);
}

}  // namespace
}  // namespace certagent::policy
