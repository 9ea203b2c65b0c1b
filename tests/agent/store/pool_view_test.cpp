// <state>/pool.json (agent/store/pool_view.hpp): what a pool member's pass saw in etcd, read back
// by `certagent status` as written; absent before any pass of a pool member; a damaged file is an
// error naming it.
#include "agent/store/pool_view.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace certagent::agent {
namespace {

using testing::TempDir;

TEST(PoolView, ReadsBackWhatWasWritten) {
  TempDir t;
  PoolView v{"fe-pool", "fe02", std::chrono::sys_seconds(std::chrono::seconds(1'796'000'000)), {}};
  v.certificates.push_back({"fe-web", "fe01", "6A3F", "fe03", {{"fe01", "6A3F"}, {"fe02", "0B1C"}}});
  v.certificates.push_back({"fe-sip", "", "", "", {}});
  ASSERT_TRUE(write_pool_view(t.path(), v));
  auto back = read_pool_view(t.path());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(*back);
  EXPECT_EQ((*back)->pool, "fe-pool");
  EXPECT_EQ((*back)->member, "fe02");
  EXPECT_EQ((*back)->as_of, v.as_of);
  ASSERT_EQ((*back)->certificates.size(), 2u);
  const auto& web = (*back)->certificates[0];
  EXPECT_EQ(web.id, "fe-web");
  EXPECT_EQ(web.leader, "fe01");
  EXPECT_EQ(web.thumbprint, "6A3F");
  EXPECT_EQ(web.ordered_by, "fe03");
  EXPECT_EQ(web.bound, (std::map<std::string, std::string>{{"fe01", "6A3F"}, {"fe02", "0B1C"}}));
  EXPECT_TRUE((*back)->certificates[1].bound.empty());
}

TEST(PoolView, AbsentBeforeAnyPassOfAPoolMember) {
  TempDir t;
  auto none = read_pool_view(t.path());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
}

TEST(PoolView, ADamagedFileIsAnErrorNamingIt) {
  TempDir t;
  std::ofstream(pool_view_path(t.path())) << "{\"format\": 1, \"pool\": 7}\n";
  auto bad = read_pool_view(t.path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(pool_view_path(t.path()).string()), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace certagent::agent
