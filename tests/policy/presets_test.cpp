#include <gtest/gtest.h>

#include "policy/json_text.hpp"
#include "policy/presets.hpp"

namespace certagent::policy {
namespace {

TEST(Presets, ParseAndCoverEveryLyncRole) {
  auto all = presets();
  ASSERT_TRUE(all) << all.error().message;
  for (const char* kind : {"front-end-standard", "front-end-enterprise", "director", "reverse-proxy"})
    EXPECT_TRUE((*all)->roles.contains(kind)) << kind;
  const auto& fe = (*all)->roles.at("front-end-enterprise").purposes;
  ASSERT_EQ(fe.size(), 3u);
  EXPECT_EQ(fe[0].purpose, "Default");  // Default first: the pool FQDN leads a shared certificate
  EXPECT_EQ(fe[1].purpose, "WebServicesInternal");
  EXPECT_EQ(fe[2].purpose, "WebServicesExternal");
}

TEST(Presets, EveryRuleTheyUseHasTheGuidesSentence) {
  auto all = presets();
  ASSERT_TRUE(all);
  for (const auto& [kind, preset] : (*all)->roles)
    for (const auto& p : preset.purposes)
      for (const auto& e : p.entries) {
        auto it = (*all)->rules.find(e.rule);
        ASSERT_NE(it, (*all)->rules.end()) << kind << "/" << p.purpose << ": " << e.rule;
        EXPECT_FALSE(it->second.empty());
      }
}

TEST(Presets, TheTextShowPresetsPrintsIsThePolicyForm) {
  EXPECT_TRUE(parse_json(presets_text(), "presets"));
  EXPECT_NE(presets_text().find("\"lyncdiscover.{autodiscover_domains}\""), std::string_view::npos);
  EXPECT_NE(presets_text().find("\"lyncdiscoverinternal.{autodiscover_domains}\""), std::string_view::npos);
}

}  // namespace
}  // namespace certagent::policy
