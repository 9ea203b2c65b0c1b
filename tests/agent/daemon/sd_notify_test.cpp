// sd_notify client: datagrams reach a test socket (path and abstract), READY/STATUS/WATCHDOG/
// STOPPING from the running daemon, the watchdog environment, and bad addresses.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <thread>

#include "agent/daemon/sd_notify.hpp"
#include "daemon_child.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A bound datagram socket standing in for systemd's notify socket.
class TestSocket {
 public:
  explicit TestSocket(const std::string& address) : address_(address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, address.data(), address.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    if (address[0] == '@') sa.sun_path[0] = '\0';
    else ++len;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), len), 0) << std::strerror(errno);
  }
  ~TestSocket() { ::close(fd_); }
  const std::string& address() const { return address_; }

  std::optional<std::string> receive(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }
  std::vector<std::string> receive_during(std::chrono::milliseconds window) const {
    std::vector<std::string> out;
    const auto deadline = Clock::now() + window;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (auto m = receive(left)) out.push_back(*m);
    }
    return out;
  }

 private:
  std::string address_;
  int fd_ = -1;
};

std::string abstract_name() {
  std::random_device rd;
  return "@certagent-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

TEST(SdNotify, SendsToAPathSocket) {
  testing::TempDir dir;
  TestSocket socket((dir.path() / "notify").string());
  auto n = Notifier::for_address(socket.address());
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_TRUE(n->ready("3 certificates current"));
  EXPECT_EQ(socket.receive(2s), "READY=1\nSTATUS=3 certificates current");
  ASSERT_TRUE(n->watchdog());
  EXPECT_EQ(socket.receive(2s), "WATCHDOG=1");
  ASSERT_TRUE(n->stopping());
  EXPECT_EQ(socket.receive(2s), "STOPPING=1");
}

TEST(SdNotify, SendsToAnAbstractSocket) {
  TestSocket socket(abstract_name());
  auto n = Notifier::for_address(socket.address());
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_TRUE(n->status("renewing front-end"));
  EXPECT_EQ(socket.receive(2s), "STATUS=renewing front-end");
}

TEST(SdNotify, StatusIsOneLine) {
  EXPECT_EQ(status_value("a\nb\tc\x7f"), "a b c ");
  EXPECT_EQ(status_value(std::string(5000, 'x')).size(), 1024u);
}

TEST(SdNotify, DisabledWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  auto n = Notifier::from_environment();
  ASSERT_TRUE(n);
  EXPECT_FALSE(n->enabled());
  EXPECT_TRUE(n->ready("x"));  // a no-op
}

TEST(SdNotify, RefusesBadAddresses) {
  for (const std::string& bad : std::vector<std::string>{"", "relative/socket", "/" + std::string(200, 'a')}) {
    auto n = Notifier::for_address(bad);
    ASSERT_FALSE(n) << bad;
    EXPECT_EQ(n.error().kind, ErrorKind::Invalid);
  }
}

TEST(SdNotify, SendToAMissingSocketFailsWithTheAddress) {
  testing::TempDir dir;
  auto n = Notifier::for_address((dir.path() / "gone").string());
  ASSERT_TRUE(n);
  auto r = n->watchdog();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("gone"), std::string::npos) << r.error().message;
}

TEST(SdNotify, WatchdogEnvironment) {
  using std::chrono::microseconds;
  EXPECT_EQ(parse_watchdog("60000000", nullptr, 42), microseconds{60'000'000});
  EXPECT_EQ(parse_watchdog("60000000", "42", 42), microseconds{60'000'000});
  EXPECT_EQ(parse_watchdog("60000000", "43", 42), std::nullopt);  // meant for another process
  EXPECT_EQ(parse_watchdog(nullptr, nullptr, 42), std::nullopt);
  EXPECT_EQ(parse_watchdog("0", nullptr, 42), std::nullopt);
  EXPECT_EQ(parse_watchdog("12abc", nullptr, 42), std::nullopt);
  EXPECT_EQ(parse_watchdog("-5", nullptr, 42), std::nullopt);
  EXPECT_EQ(parse_watchdog("60000000", "x", 42), std::nullopt);
}

testing::TestPass quick_pass() {
  return [](const PassRequest& r, const auto&) {
    PassSummary s = testing::summary_waking_at(r.now + std::chrono::hours(24));
    s.status_line = "2 certificates current; next renewal in 29d";
    return s;
  };
}

TEST(SdNotifyDaemon, ReadyAfterTheFirstPassThenWatchdogThenStopping) {
  TestSocket socket(abstract_name());
  testing::DaemonChild child({}, quick_pass(), {{"NOTIFY_SOCKET", socket.address()}, {"WATCHDOG_USEC", "200000"}},
                             /*through_run_agent=*/true);
  ASSERT_EQ(child.next_line(5s), "pass startup");
  std::vector<std::string> got = socket.receive_during(1s);
  ASSERT_FALSE(got.empty());
  const auto ready = std::find(got.begin(), got.end(), "READY=1\nSTATUS=2 certificates current; next renewal in 29d");
  EXPECT_NE(ready, got.end());
  // WATCHDOG=1 every 100 ms (half of 200 ms): about 10 in the second; allow a slow machine.
  const auto pings = std::count(got.begin(), got.end(), "WATCHDOG=1");
  EXPECT_GE(pings, 5);
  EXPECT_LE(pings, 12);
  child.signal(SIGTERM);
  bool stopping = false;
  for (const auto& m : socket.receive_during(1s)) stopping = stopping || m == "STOPPING=1";
  EXPECT_TRUE(stopping);
  EXPECT_EQ(child.wait_exit(3s), 0);
}

TEST(SdNotifyDaemon, StatusAfterEveryPass) {
  TestSocket socket(abstract_name());
  testing::DaemonChild child({}, quick_pass(), {{"NOTIFY_SOCKET", socket.address()}}, true);
  ASSERT_EQ(child.next_line(5s), "pass startup");
  EXPECT_EQ(socket.receive(2s), "READY=1\nSTATUS=2 certificates current; next renewal in 29d");
  child.signal(SIGHUP);
  ASSERT_EQ(child.next_line(3s), "pass reload");
  EXPECT_EQ(socket.receive(2s), "STATUS=2 certificates current; next renewal in 29d");
  EXPECT_EQ(socket.receive(300ms), std::nullopt);  // no watchdog asked for: nothing else
}

TEST(SdNotifyDaemon, NoWatchdogPingsWhileAPassHangs) {
  TestSocket socket(abstract_name());
  DaemonOptions options;
  options.pass_stall_limit = std::chrono::seconds(1);
  options.watchdog = std::chrono::milliseconds(200);
  testing::DaemonChild child(options, [](const PassRequest& r, const auto&) {
    const auto deadline = Clock::now() + 30s;
    while (!r.cancelled() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return testing::summary_waking_at(r.now + std::chrono::hours(24));
  }, {{"NOTIFY_SOCKET", socket.address()}});
  ASSERT_EQ(child.next_line(5s), "pass startup");
  const auto early = socket.receive_during(900ms);
  EXPECT_GE(std::count(early.begin(), early.end(), "WATCHDOG=1"), 4);  // the loop is alive, the pass young
  (void)socket.receive_during(400ms);  // past the 1 s stall limit; drops the pings sent before it
  const auto late = socket.receive_during(1s);
  EXPECT_EQ(std::count(late.begin(), late.end(), "WATCHDOG=1"), 0);
}

}  // namespace
}  // namespace certagent::agent
