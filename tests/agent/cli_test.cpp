#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

struct Run { int code; std::string out; };

Run run(const std::string& args) {
  std::string cmd = std::string(CERTAGENT_BINARY) + " " + args + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return {WEXITSTATUS(status), out};
}

TEST(Cli, VersionPrintsTheVersion) {
  auto r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("certagent 0."), std::string::npos) << r.out;
}

TEST(Cli, HelpTeachesCommandsAndExitCodes) {
  auto r = run("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Get-CsCertificate"), std::string::npos) << r.out;
}

TEST(Cli, UnknownOptionIsUsageErrorExit2) {
  auto r = run("--no-such-option");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("no-such-option"), std::string::npos) << r.out;
}

TEST(Cli, NoCommandShowsHelpAndExit2) {
  auto r = run("");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
}

}  // namespace
