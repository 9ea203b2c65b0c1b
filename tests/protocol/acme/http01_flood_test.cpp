// The http-01 responder under a flood (issue 18, item 1): one client holding idle connections
// cannot keep a validation from another address waiting, and running out of descriptors does
// not make it spin.
#include "protocol/acme/http01_responder.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace certagent::protocol {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kThumb = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

ChallengeTask task(const std::string& token) {
  return ChallengeTask{"a.example", "http-01", token, token + "." + kThumb, ""};
}

// A connection from `source` (a 127/8 address) to 127.0.0.1:port; -1 when it fails.
int connect_from(const char* source, std::uint16_t port, timeval timeout = {5, 0}) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &a.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// GET of a token from `source`; the body, or "" when no complete answer came within `timeout`.
std::string validate(const char* source, std::uint16_t port, const std::string& token, timeval timeout) {
  int fd = connect_from(source, port, timeout);
  if (fd < 0) return "";
  const std::string req = "GET /.well-known/acme-challenge/" + token + " HTTP/1.1\r\nHost: a.example\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  auto p = out.find("\r\n\r\n");
  return p == std::string::npos ? "" : out.substr(p + 4);
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void raise_descriptor_limit(rlim_t want) {
  rlimit l{};
  ::getrlimit(RLIMIT_NOFILE, &l);
  if (l.rlim_cur < want) {
    l.rlim_cur = std::min(want, l.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &l);
  }
}

Http01ResponderOptions loopback() {
  Http01ResponderOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  return o;
}

TEST(Http01Flood, OneClientHoldingIdleConnectionsDoesNotDelayAValidationFromAnother) {
  raise_descriptor_limit(4096);
  auto o = loopback();  // the default caps: 1,024 connections, 512 per client
  o.head_timeout = o.connection_timeout = 60s;  // the idle ones stay for the whole test, however slow the machine
  Http01Responder r(o);
  ASSERT_TRUE(r.start());
  ASSERT_TRUE(r.present(task("valid")));
  std::vector<int> idle;
  for (int i = 0; i < 1100; ++i) {
    int fd = connect_from("127.0.0.1", r.port());
    ASSERT_GE(fd, 0) << i;
    idle.push_back(fd);
  }
  // Every one of them has reached the responder: 512 held, the other 588 closed at accept.
  for (auto until = Clock::now() + 10s; Clock::now() < until && r.stats().connections + r.stats().refused < 1100;)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(r.stats().connections, 512u);
  EXPECT_EQ(r.stats().refused, 588u);
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  EXPECT_EQ(validate("127.0.0.2", r.port(), "valid", {1, 0}), "valid." + kThumb);
  const auto waited = Clock::now() - t0;
  EXPECT_LT(waited, 1s);
  std::printf("[ measure  ] validation beside 1,100 idle connections: %lld ms, %.3f s CPU\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()),
              cpu_seconds() - cpu0);
  for (int fd : idle) ::close(fd);
}

TEST(Http01Flood, RunningOutOfDescriptorsPausesAcceptingInsteadOfSpinning) {
  Http01Responder r(loopback());
  ASSERT_TRUE(r.start());
  ASSERT_TRUE(r.present(task("later")));
  // One validation first, so the serving thread is running and everything it sets up once (and
  // the sanitizers' own bookkeeping, which needs descriptors too) is done before they run out.
  ASSERT_EQ(validate("127.0.0.1", r.port(), "later", {2, 0}), "later." + kThumb);
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  // Leave this process 8 descriptors more than it holds: the client's sockets take them, so the
  // responder's accept() fails with EMFILE while the connections wait in its backlog.
  int probe = ::dup(0);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(probe) + 8;
  ::close(probe);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> waiting;
  for (int fd; (fd = connect_from("127.0.0.1", r.port())) >= 0;) waiting.push_back(fd);
  const double cpu0 = cpu_seconds();
  std::this_thread::sleep_for(500ms);  // a measurement window, not a wait for the other side
  const double cpu = cpu_seconds() - cpu0;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  for (int fd : waiting) ::close(fd);
  EXPECT_LT(cpu, 0.1) << "the responder spun while out of descriptors";
  EXPECT_EQ(validate("127.0.0.2", r.port(), "later", {2, 0}), "later." + kThumb);
}

}  // namespace
}  // namespace certagent::protocol
