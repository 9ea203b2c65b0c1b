// dns-01 through RFC 2136 in the policy: the primary, the TSIG key file, and the optional rest.
#include <gtest/gtest.h>

#include "policy/parse.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

TEST(PolicyRfc2136, TheServerAndKeyFileAreEnoughTheRestHasDefaults) {
  auto p = parse_policy(test::lync_policy(R"("server_fqdn": "se01.contoso.net")",
                                          R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01",
                                             "rfc2136": {"server": "192.0.2.53:53", "key_file": "/etc/certagent/u.key"}},)"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->challenges.front().type, Challenge::Type::Dns01);
  ASSERT_TRUE(p->challenges.front().rfc2136);
  EXPECT_EQ(p->challenges.front().rfc2136->server, "192.0.2.53:53");
  EXPECT_EQ(p->challenges.front().rfc2136->key_file, "/etc/certagent/u.key");
  EXPECT_FALSE(p->challenges.front().rfc2136->zone);
  EXPECT_EQ(p->challenges.front().rfc2136->nameserver_port, 53);
  EXPECT_EQ(p->challenges.front().rfc2136->propagation_timeout, std::chrono::seconds(120));
  EXPECT_EQ(p->challenges.front().rfc2136->propagation_interval, std::chrono::seconds(2));
  EXPECT_TRUE(p->challenges.front().dns_hook.empty());
}

TEST(PolicyRfc2136, EverySettingIsRead) {
  auto p = parse_policy(test::lync_policy(R"("server_fqdn": "se01.contoso.net")",
                                          R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01",
                                             "rfc2136": {"server": "[2001:db8::53]:53", "key_file": "/k",
                                                         "zone": "Contoso.COM.", "nameserver_port": 5353,
                                                         "propagation_timeout": "5m", "propagation_interval": "5s"}},)"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(p->challenges.front().rfc2136);
  EXPECT_EQ(p->challenges.front().rfc2136->zone, "contoso.com");
  EXPECT_EQ(p->challenges.front().rfc2136->nameserver_port, 5353);
  EXPECT_EQ(p->challenges.front().rfc2136->propagation_timeout, std::chrono::minutes(5));
  EXPECT_EQ(p->challenges.front().rfc2136->propagation_interval, std::chrono::seconds(5));
}

TEST(PolicyRfc2136, TheHookFormStillWorks) {
  auto p = parse_policy(test::lync_policy(R"("server_fqdn": "se01.contoso.net")",
                                          R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01", "hook": "/usr/local/bin/h"},)"),
                        "p.json");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->challenges.front().dns_hook, "/usr/local/bin/h");
  EXPECT_FALSE(p->challenges.front().rfc2136);
}

}  // namespace
}  // namespace certagent::policy
