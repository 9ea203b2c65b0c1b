#include <gtest/gtest.h>

#include "policy/name_template.hpp"

namespace certagent::policy {
namespace {

Variables vars() {
  return {{"sip_domains", {{"contoso.com", "sip_domains[0]"}, {"Fabrikam.COM.", "sip_domains[1]"}}},
          {"pool", {{"pool01.contoso.net", "roles[0].pool_fqdn"}}},
          {"sites", {{"www", "v.sites[0]"}, {"shop", "v.sites[1]"}}},
          {"none", {}},
          {"long", {{std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(50, 'd'), "v.long"}}}};
}

std::vector<std::string> expand_ok(std::string_view text) {
  auto t = parse_name_template(text);
  EXPECT_TRUE(t) << text;
  auto names = expand(*t, vars());
  EXPECT_TRUE(names) << text << ": " << names.error().message;
  return names ? *names : std::vector<std::string>{};
}

TEST(NameTemplate, ExpandsScalarsListsAndProducts) {
  using V = std::vector<std::string>;
  EXPECT_EQ(expand_ok("{pool}"), (V{"pool01.contoso.net"}));
  EXPECT_EQ(expand_ok("lyncdiscover.{sip_domains}"), (V{"lyncdiscover.contoso.com", "lyncdiscover.fabrikam.com"}));
  EXPECT_EQ(expand_ok("{sites}.{sip_domains}"),
            (V{"www.contoso.com", "www.fabrikam.com", "shop.contoso.com", "shop.fabrikam.com"}));
  EXPECT_EQ(expand_ok("literal.example.org"), (V{"literal.example.org"}));
  EXPECT_EQ(expand_ok("x.{none}"), V{});
}

TEST(NameTemplate, RefusesMalformedTemplates) {
  for (std::string_view bad : {"{", "a}", "{}", "{Pool}", "{a-b}", "", "{pool"})
    EXPECT_FALSE(parse_name_template(bad)) << bad;
}

TEST(NameTemplate, UnknownVariableListsTheKnownOnes) {
  auto names = expand(*parse_name_template("x.{sip_domain}"), vars());
  ASSERT_FALSE(names);
  EXPECT_NE(names.error().message.find("unknown variable '{sip_domain}'"), std::string::npos);
  EXPECT_NE(names.error().message.find("sip_domains"), std::string::npos);
}

TEST(NameTemplate, AnInvalidResultBlamesTheValueThatMadeIt) {
  auto names = expand(*parse_name_template("lyncdiscoverinternal.{long}"), vars());
  ASSERT_FALSE(names);
  EXPECT_EQ(names.error().origin, "v.long");
  EXPECT_NE(names.error().message.find("at most 253"), std::string::npos) << names.error().message;
  auto wildcard = expand(*parse_name_template("a.*.{pool}"), vars());
  ASSERT_FALSE(wildcard);
  EXPECT_NE(wildcard.error().message.find("wildcard"), std::string::npos);
}

TEST(NameTemplate, CapsTheNumberOfNames) {
  Variables v;
  for (int i = 0; i < 40; ++i) v["a"].push_back({"a" + std::to_string(i), ""});
  v["b"] = v["a"];
  auto names = expand(*parse_name_template("{a}.{b}.example"), v);
  ASSERT_FALSE(names);
  EXPECT_NE(names.error().message.find("more than 1000"), std::string::npos);
}

}  // namespace
}  // namespace certagent::policy
