// A proxy password never leaves the environment: `certagent run --once` with
// https_proxy=http://alice:s3cr3t/P#W@... (a password with '/' and '#', not
// percent-encoded, so no URL) fails the pass, says which variable is wrong,
// and neither its log nor any file in its state directory holds the password.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon_support.hpp"

namespace certagent::integration {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(DaemonProxy, AProxyPasswordWithSlashAndHashReachesNoLogAndNoSavedState) {
  EngineSandbox box(require_pebble_env("default"));
  box.write_policy(pool("shared"));
  AgentProcess agent(box, box.dir() / "agent.log", {"--once"},
                     {"https_proxy=http://alice:s3cr3t/P#W@127.0.0.1:3128"});
  const auto code = agent.wait_exit(60s);
  ASSERT_TRUE(code.has_value()) << agent.log();
  EXPECT_NE(*code, 0) << agent.log();
  EXPECT_NE(agent.log().find("(https_proxy)"), std::string::npos) << agent.log();
  EXPECT_EQ(agent.log().find("s3cr3t"), std::string::npos) << agent.log();
  for (const auto& entry : fs::recursive_directory_iterator(box.dir())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str().find("s3cr3t"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace certagent::integration
