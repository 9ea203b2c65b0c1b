// `certagent plan` against a real store: what is bound decides the action.
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>

#include "agent/engine/installed_state.hpp"
#include "agent/store/store.hpp"
#include "store_support.hpp"
#include "support/cli_runner.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::make_cert;
using testing::TempDir;

const std::vector<std::string> kSeNames = {"lyncse01.contoso.net", "meet.contoso.com", "dialin.contoso.com",
                                           "admin.contoso.com", "lyncdiscoverinternal.contoso.com",
                                           "lyncweb.contoso.com", "lyncdiscover.contoso.com"};
const std::string kThree[] = {"Default", "WebServicesInternal", "WebServicesExternal"};

std::string add(Store& s, const std::vector<std::string>& names) {
  auto c = make_cert(names);
  auto id = s.add_version({c.key_pem, c.leaf_pem, c.chain_pem, {}});
  EXPECT_TRUE(id) << id.error().message;
  return id ? *id : "";
}

json::value plan_json_for(const fs::path& state) {
  auto r = certagent::testing::run_certagent(
      "plan --json --state-dir " + state.string() + " --policy " +
          (fs::path(CERTAGENT_SOURCE_DIR) / "docs/examples/standard-edition-shared.json").string(),
      false);
  EXPECT_EQ(r.code, 0) << r.out;
  return json::parse(r.out);
}

TEST(InstalledState, MapsBindingsToThumbprintsAndVersionsToCertificates) {
  TempDir t;
  auto s = std::move(*Store::open(t.path(), {.write = true}));
  auto id = add(s, {"a.example", "B.example"});
  ASSERT_TRUE(s.bind(kThree, id));
  auto inv = s.inventory();
  ASSERT_TRUE(inv) << inv.error().message;
  auto in = to_installed(*inv);
  ASSERT_EQ(in.certificates.size(), 1u);
  EXPECT_EQ(in.certificates[0].key, policy::KeyType::EcP256);
  EXPECT_EQ(in.certificates[0].not_after - in.certificates[0].not_before, std::chrono::hours(24 * 90));
  EXPECT_EQ(in.bindings.size(), 3u);
  EXPECT_EQ(in.bindings.at("Default"), in.certificates[0].thumbprint);
}

TEST(InstalledState, AMissingStateDirectoryMeansNothingIsInstalled) {
  TempDir t;
  std::vector<std::string> problems;
  auto in = installed_state(t.path() / "not-yet", problems);
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_TRUE(in->bindings.empty());
  EXPECT_TRUE(in->certificates.empty());
}

TEST(InstalledState, PlanKeepsACompleteBoundCertificate) {
  TempDir t;
  {
    auto s = std::move(*Store::open(t.path(), {.write = true}));
    ASSERT_TRUE(s.bind(kThree, add(s, kSeNames)));
  }
  auto v = plan_json_for(t.path());
  const auto& c = v.at("certificates").at(0);
  EXPECT_EQ(c.at("action"), "keep") << c.at("reason");
  EXPECT_TRUE(c.as_object().contains("thumbprint"));
}

TEST(InstalledState, PlanReissuesWhenAnAutodiscoverNameIsMissing) {
  TempDir t;
  {
    auto s = std::move(*Store::open(t.path(), {.write = true}));
    auto names = kSeNames;
    names.pop_back();  // no lyncdiscover.contoso.com: the guide's step 12 situation
    names.push_back("old.contoso.com");
    ASSERT_TRUE(s.bind(kThree, add(s, names)));
  }
  auto v = plan_json_for(t.path());
  const auto& c = v.at("certificates").at(0);
  EXPECT_EQ(c.at("action"), "reissue");
  EXPECT_EQ(c.at("missing"), json::array({"lyncdiscover.contoso.com"}));
  EXPECT_EQ(c.at("extra"), json::array({"old.contoso.com"}));
}

TEST(InstalledState, PlanRebindsToAStoredCertificateThatFits) {
  TempDir t;
  {
    auto s = std::move(*Store::open(t.path(), {.write = true}));
    ASSERT_TRUE(s.bind(kThree, add(s, {"old.contoso.com"})));
    add(s, kSeNames);  // stored, not bound
  }
  auto v = plan_json_for(t.path());
  const auto& c = v.at("certificates").at(0);
  EXPECT_EQ(c.at("action"), "rebind") << c.at("reason");
  EXPECT_EQ(c.at("rebind").as_array().size(), 3u);
}

}  // namespace
}  // namespace certagent::agent
