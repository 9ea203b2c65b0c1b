#include <gtest/gtest.h>

#include <string>

#include "support/cli_runner.hpp"

namespace {

using certagent::testing::run_certagent;

TEST(Cli, VersionPrintsTheVersion) {
  auto r = run_certagent("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("certagent 0."), std::string::npos) << r.out;
}

TEST(Cli, HelpTeachesCommandsAndExitCodes) {
  auto r = run_certagent("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Get-CsCertificate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run --once --now"), std::string::npos) << r.out;
}

TEST(Cli, RunHelpTeachesTheWayOutOfABackoff) {
  auto r = run_certagent("run --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--now"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backing off"), std::string::npos) << r.out;
}

TEST(Cli, UnknownOptionIsUsageErrorExit2) {
  auto r = run_certagent("--no-such-option");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("no-such-option"), std::string::npos) << r.out;
}

TEST(Cli, NoCommandShowsHelpAndExit2) {
  auto r = run_certagent("");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
}

}  // namespace

namespace certagent::agent {
namespace {

// Issue 17 item 3: every global option works before or after every subcommand. Each command runs
// both ways against a state directory and policy that do not exist: the outcome (exit code and
// message) is the same, and never "argument was not expected".
TEST(Cli, GlobalOptionsWorkBeforeAndAfterEverySubcommand) {
  const std::string globals = "--policy /nonexistent/policy.json --state-dir /nonexistent/state --json -v";
  const std::vector<std::string> commands = {
      "plan", "status", "certs", "policy check", "run --once", "request --type Default",
      "assign --type Default --thumbprint 0000000000000000000000000000000000000000",
      "revoke --thumbprint 0000000000000000000000000000000000000000"};
  for (const auto& c : commands) {
    const auto before = certagent::testing::run_certagent(globals + " " + c);
    const auto after = certagent::testing::run_certagent(c + " " + globals);
    EXPECT_EQ(after.code, before.code) << c << "\nbefore: " << before.out << "\nafter: " << after.out;
    EXPECT_EQ(after.out.find("not expected"), std::string::npos) << c << ": " << after.out;
    EXPECT_EQ(before.out.find("not expected"), std::string::npos) << c << ": " << before.out;
  }
}

}  // namespace
}  // namespace certagent::agent
