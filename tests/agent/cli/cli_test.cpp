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
