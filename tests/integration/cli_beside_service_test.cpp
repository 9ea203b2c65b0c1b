// The commands that write (request, assign, run --once) beside a running `certagent run`, as an
// operator uses Request-/Set-CsCertificate on a running server (issue 17 item 2): the service
// holds the writer lock only during a pass, a command waits at most for the pass in progress and
// then tells the service (SIGHUP), which acts on it at once. Real processes, against pebble.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>

#include "daemon_support.hpp"
#include "engine_support.hpp"

namespace certagent::integration {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr auto kFirstPass = 60s;

std::string describe(const ProcessOutcome& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err; }

std::string printed_thumbprint(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("Thumbprint : ([0-9A-F]{40})")) ? m[1].str() : "";
}

TEST(CliBesideTheService, RequestAndAssignWorkWhileTheServiceRunsAndItActsOnThemAtOnce) {
  EngineSandbox box;
  box.write_policy(pool("separate"));  // (with "shared", the service would put Default back on the shared certificate)
  AgentProcess agent(box, box.dir() / "agent.log");
  ASSERT_TRUE(agent.wait_for_log("pass (startup) done", kFirstPass)) << agent.log();
  const auto t0 = std::chrono::steady_clock::now();
  auto requested = box.certagent({"request", "--type", "Default"});
  ASSERT_EQ(requested.exit_code, 0) << describe(requested);
  const std::string thumbprint = printed_thumbprint(requested.out);
  ASSERT_EQ(thumbprint.size(), 40u) << requested.out;
  EXPECT_THAT(requested.err, HasSubstr("told the running service"));
  auto assigned = box.certagent({"assign", "--type", "Default", "--thumbprint", thumbprint});
  EXPECT_EQ(assigned.exit_code, 0) << describe(assigned);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "the commands waited for the service";
  EXPECT_TRUE(agent.wait_for_log("pass (reload) done", 20s, 2)) << agent.log();
  EXPECT_EQ(thumbprint_of(box.certs().at("Default")), thumbprint);
  auto status = box.certagent({"status", "--json"});
  EXPECT_EQ(status.exit_code == 0 || status.exit_code == 3, true) << describe(status);
  EXPECT_THAT(status.out, HasSubstr(thumbprint));
  EXPECT_TRUE(agent.running()) << agent.log();
}

TEST(CliBesideTheService, ARefusedAssignStaysRefusedBesideTheService) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  AgentProcess agent(box, box.dir() / "agent.log");
  ASSERT_TRUE(agent.wait_for_log("pass (startup) done", kFirstPass)) << agent.log();
  auto requested = box.certagent({"request", "--type", "WebServicesExternal", "--domain-name", "lyncdiscover.contoso.com"});
  ASSERT_EQ(requested.exit_code, 0) << describe(requested);
  const auto before = thumbprint_of(box.certs().at("WebServicesExternal"));
  auto refused = box.certagent({"assign", "--type", "WebServicesExternal", "--thumbprint", printed_thumbprint(requested.out)});
  EXPECT_EQ(refused.exit_code, 1) << describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("lacks lyncdiscover.fabrikam.com"));
  EXPECT_EQ(thumbprint_of(box.certs().at("WebServicesExternal")), before);
}

TEST(CliBesideTheService, ACommandWaitsForThePassInProgressAndSaysSo) {
  EngineSandbox box;
  // A hook that takes 3 s holds the startup pass (and its lock) that long.
  const fs::path slow = box.dir() / "slow-hook";
  std::ofstream(slow) << "#!/bin/sh\nsleep 3\n";
  fs::permissions(slow, fs::perms::owner_all);
  PoolPolicy policy = pool("shared");
  policy.hooks["Default"] = {slow.string()};
  box.write_policy(policy);
  AgentProcess agent(box, box.dir() / "agent.log");
  ASSERT_TRUE(poll_until([&] { return fs::exists(box.state() / "live" / "Default"); }, kFirstPass)) << agent.log();
  auto requested = box.certagent({"request", "--type", "Default"});
  EXPECT_EQ(requested.exit_code, 0) << describe(requested);
  EXPECT_THAT(requested.err, HasSubstr("waiting for the pass in progress"));
  EXPECT_TRUE(agent.wait_for_log("pass (startup) done", 1s)) << "the command ran before the pass ended";
}

TEST(CliBesideTheService, TwoCommandsAtOnceAreSerialized) {
  EngineSandbox box;
  box.write_policy(pool("separate"));
  AgentProcess agent(box, box.dir() / "agent.log");
  ASSERT_TRUE(agent.wait_for_log("pass (startup) done", kFirstPass)) << agent.log();
  auto a = std::async(std::launch::async, [&] { return box.certagent({"request", "--type", "WebServicesInternal"}); });
  auto b = std::async(std::launch::async, [&] { return box.certagent({"request", "--type", "WebServicesExternal"}); });
  const auto ra = a.get(), rb = b.get();
  EXPECT_EQ(ra.exit_code, 0) << describe(ra);
  EXPECT_EQ(rb.exit_code, 0) << describe(rb);
  EXPECT_NE(printed_thumbprint(ra.out), printed_thumbprint(rb.out));
}

TEST(CliBesideTheService, ASecondServiceOnTheSameStateDirectoryIsRefusedAtOnceNamingTheFirst) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  AgentProcess agent(box, box.dir() / "agent.log");
  ASSERT_TRUE(agent.wait_for_log("pass (startup) done", kFirstPass)) << agent.log();
  const auto t0 = std::chrono::steady_clock::now();
  AgentProcess second(box, box.dir() / "second.log");
  const auto code = second.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << second.log();
  EXPECT_EQ(*code, 1) << second.log();
  EXPECT_THAT(second.log(), HasSubstr("another certagent (pid " + std::to_string(agent.pid()) + ") holds"));
  EXPECT_THAT(second.log(), HasSubstr("daemon.lock"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(agent.running());
}

}  // namespace
}  // namespace certagent::integration
