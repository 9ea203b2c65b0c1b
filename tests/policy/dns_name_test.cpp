#include <gtest/gtest.h>

#include "common/dns_name.hpp"

namespace certagent {
namespace {

TEST(DnsName, LowerCasesAndStripsTrailingDot) {
  EXPECT_EQ(*normalize_dns_name("LyncDiscover.Contoso.COM."), "lyncdiscover.contoso.com");
}

TEST(DnsName, AcceptsLeftMostWildcardOnly) {
  EXPECT_TRUE(normalize_dns_name("*.contoso.com"));
  EXPECT_FALSE(normalize_dns_name("a.*.contoso.com"));
  EXPECT_FALSE(normalize_dns_name("*a.contoso.com"));
}

TEST(DnsName, RefusesBadShapesWithAReason) {
  struct Case { std::string name; std::string says; };
  std::vector<Case> cases = {
      {"", "empty"},
      {"a..b", "empty label"},
      {std::string(64, 'a') + ".com", "at most 63"},
      {std::string(250, 'a').replace(60, 1, ".").replace(120, 1, ".").replace(180, 1, ".") + ".com", "at most 253"},
      {"bücher.example", "xn--"},
      {"a_b.example", "contains '_'"},
      {"-a.example", "hyphen"},
      {"a;rm -rf.example", "contains ';'"},
  };
  for (const auto& c : cases) {
    auto r = normalize_dns_name(c.name);
    ASSERT_FALSE(r) << c.name;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << c.name << " -> " << r.error().message;
  }
}

}  // namespace
}  // namespace certagent

namespace certagent {
namespace {

TEST(DnsName, HostileNamesReachMessagesEscaped) {
  auto r = normalize_dns_name("evil\x1b[31m.example");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("\\x1b"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace certagent
