// dns-persist-01 in the policy: no DNS credential, only where to read the records from.
#include <gtest/gtest.h>

#include "policy/parse.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

TEST(PolicyDnsPersist, TheChallengeTakesAResolverAndAnIssuerDomain) {
  auto p = parse_policy(test::lync_policy(R"("server_fqdn": "se01.contoso.net")",
                                          R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-persist-01",
                                             "resolver": "[::1]:5353", "issuer_domain": "LetsEncrypt.org."},)"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->challenges.front().type, Challenge::Type::DnsPersist01);
  EXPECT_EQ(p->challenges.front().resolver, "[::1]:5353");
  EXPECT_EQ(p->challenges.front().issuer_domain, "letsencrypt.org");  // normalised as every DNS name
  EXPECT_TRUE(p->challenges.front().dns_hook.empty());
}

TEST(PolicyDnsPersist, BothSettingsAreOptional) {
  auto p = parse_policy(test::lync_policy(R"("server_fqdn": "se01.contoso.net")",
                                          R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-persist-01"},)"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->challenges.front().type, Challenge::Type::DnsPersist01);
  EXPECT_FALSE(p->challenges.front().resolver);
  EXPECT_FALSE(p->challenges.front().issuer_domain);
}

}  // namespace
}  // namespace certagent::policy
