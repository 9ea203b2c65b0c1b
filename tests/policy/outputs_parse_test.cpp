// The "purposes" output settings: every file kind, the modes' defaults and
// the PKCS#12 password source.
#include <gtest/gtest.h>

#include "policy/parse.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

using test::lync_policy;

PurposeOutput default_output(const std::string& purposes) {
  auto p = parse_policy(lync_policy(R"("server_fqdn": "se01.contoso.net")",
                                    R"("sip_domains": ["a.com"], "purposes": {"Default": )" + purposes + "},"),
                        "p.json");
  if (!p) throw std::runtime_error(p.error().message);
  return p->outputs.at("Default");
}

TEST(PolicyOutputs, EveryFileKindIsRead) {
  auto out = default_output(R"({"cert": "/o/c.pem", "chain": "/o/ch.pem", "fullchain": "/o/f.pem", "key": "/o/k.pem",
                                "combined_pem": "/o/all.pem", "pkcs12": "/o/b.p12", "pkcs12_password_file": "/o/pw"})");
  EXPECT_EQ(out.cert, "/o/c.pem");
  EXPECT_EQ(out.chain, "/o/ch.pem");
  EXPECT_EQ(out.fullchain, "/o/f.pem");
  EXPECT_EQ(out.key, "/o/k.pem");
  EXPECT_EQ(out.combined_pem, "/o/all.pem");
  EXPECT_EQ(out.pkcs12, "/o/b.p12");
  EXPECT_EQ(out.pkcs12_password_file, "/o/pw");
  EXPECT_FALSE(out.pkcs12_empty_password);
}

TEST(PolicyOutputs, KeyFilesDefaultTo0600And0640WithAGroup) {
  auto plain = default_output(R"({"key": "/o/k.pem"})");
  EXPECT_EQ(plain.key_mode, 0600u);
  EXPECT_EQ(plain.cert_mode, 0644u);
  EXPECT_FALSE(plain.owner);
  EXPECT_FALSE(plain.group);
  auto grouped = default_output(R"({"key": "/o/k.pem", "group": "ssl-cert"})");
  EXPECT_EQ(grouped.key_mode, 0640u) << "a group is named so that it can read the key";
  EXPECT_EQ(grouped.group, "ssl-cert");
  auto explicit_mode = default_output(R"({"key": "/o/k.pem", "group": "ssl-cert", "key_mode": "0600"})");
  EXPECT_EQ(explicit_mode.key_mode, 0600u) << "an explicit key_mode wins";
}

TEST(PolicyOutputs, UnitsToReloadAndRestartAreReadInOrderAndNoneByDefault) {
  auto none = default_output(R"({"key": "/o/k.pem"})");
  EXPECT_TRUE(none.reload_units.empty());
  EXPECT_TRUE(none.restart_units.empty());
  auto some = default_output(R"({"reload_units": ["nginx.service", "getty@tty1.service"],
                                 "restart_units": ["lync-import.service"]})");
  EXPECT_EQ(some.reload_units, (std::vector<std::string>{"nginx.service", "getty@tty1.service"}));
  EXPECT_EQ(some.restart_units, (std::vector<std::string>{"lync-import.service"}));
}

TEST(PolicyOutputs, AUnitNameWithControlCharactersReachesTheMessageEscaped) {
  auto p = parse_policy(lync_policy(R"("server_fqdn": "se01.contoso.net")",
                                    R"("sip_domains": ["a.com"], "purposes": {"Default": {"reload_units": ["x\u001b[31m.service"]}},)"),
                        "p.json");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("is not a service unit name"), std::string::npos) << p.error().message;
  EXPECT_EQ(p.error().message.find('\x1b'), std::string::npos) << "the escape character reached the message raw";
}

TEST(PolicyOutputs, AnEmptyPkcs12PasswordIsSaidExplicitly) {
  auto out = default_output(R"({"pkcs12": "/o/b.p12", "pkcs12_empty_password": true})");
  EXPECT_TRUE(out.pkcs12_empty_password);
  EXPECT_FALSE(out.pkcs12_password_file);
}

}  // namespace
}  // namespace certagent::policy
