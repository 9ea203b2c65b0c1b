// SIGTERM reaches a request on the wire: the daemon against a CA that accepts
// the connection and never answers stops within a few seconds with exit 0
// (the transport watches the pass's cancel flag; protocol/http/curl_transport.hpp).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>

#include "connect_proxy.hpp"
#include "daemon_support.hpp"

namespace certagent::integration {
namespace {

using namespace std::chrono_literals;

TEST(DaemonCancel, SigtermInterruptsARequestToACaThatNeverAnswers) {
  SilentListener silent;
  PebbleEnv hanging = require_pebble_env("default");
  hanging.directory_url = fmt::format("https://127.0.0.1:{}/dir", silent.port());
  EngineSandbox box(hanging);
  box.write_policy(pool("shared"));
  AgentProcess agent(box, box.dir() / "agent.log");
  // The ClientHello is in: the agent now waits for the TLS handshake.
  ASSERT_TRUE(poll_until([&] { return silent.has_pending_bytes(); }, 30s)) << agent.log();

  const auto t0 = std::chrono::steady_clock::now();
  agent.signal(SIGTERM);
  const auto code = agent.wait_exit(15s);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(code, std::optional<int>(0)) << agent.log();
  EXPECT_LT(took, 5s) << "not the 20 s grace: the request itself was cancelled\n" << agent.log();
  EXPECT_NE(agent.log().find("interrupted: the agent is stopping"), std::string::npos) << agent.log();
}

}  // namespace
}  // namespace certagent::integration
