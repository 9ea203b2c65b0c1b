#include "protocol/acme/http01_responder.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace certagent::protocol {
namespace {

using namespace std::chrono_literals;

const std::string kThumb = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

ChallengeTask task(const std::string& token, const std::string& name = "a.example") {
  return ChallengeTask{name, "http-01", token, token + "." + kThumb, ""};
}

// A blocking client socket with a receive timeout, so a broken server fails the test instead of hanging it.
int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

std::string send_request(std::uint16_t port, const std::string& request) {
  int fd = connect_to(port);
  if (fd < 0) return "connect failed";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

std::string get(std::uint16_t port, const std::string& path, const std::string& method = "GET") {
  return send_request(port, method + " " + path + " HTTP/1.1\r\nHost: a.example\r\nUser-Agent: test\r\n\r\n");
}

std::string body_of(const std::string& response) {
  auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

class Http01 : public ::testing::Test {
 protected:
  void SetUp() override {
    Http01ResponderOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.connection_timeout = 1500ms;
    responder = std::make_unique<Http01Responder>(o);
    auto r = responder->start();
    ASSERT_TRUE(r) << r.error().message;
    port = responder->port();
    ASSERT_NE(port, 0);
  }
  std::unique_ptr<Http01Responder> responder;
  std::uint16_t port = 0;
};

TEST_F(Http01, ServesAHeldTokenWithTheExactBody) {
  ASSERT_TRUE(responder->present(task("tok_en-1")));
  auto resp = get(port, "/.well-known/acme-challenge/tok_en-1");
  EXPECT_TRUE(resp.starts_with("HTTP/1.1 200 OK\r\n")) << resp;
  EXPECT_NE(resp.find("Content-Type: text/plain\r\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("Content-Length: " + std::to_string(9 + kThumb.size()) + "\r\n"), std::string::npos) << resp;
  EXPECT_EQ(body_of(resp), "tok_en-1." + kThumb);
  EXPECT_EQ(responder->stats().answered, 1u);
  // HEAD: same headers, no body.
  auto head = get(port, "/.well-known/acme-challenge/tok_en-1", "HEAD");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_EQ(body_of(head), "");
}

TEST_F(Http01, UnknownTokensAndOtherPathsAre404) {
  ASSERT_TRUE(responder->present(task("held")));
  const std::string paths[] = {
      "/.well-known/acme-challenge/other",
      "/.well-known/acme-challenge/",
      "/.well-known/acme-challenge/held/",
      "/.well-known/acme-challenge/held?x=1",
      "/.well-known/acme-challenge/../acme-challenge/held",
      "/.well-known/acme-challenge/%2e%2e%2fheld",
      "/.well-known/acme-challenge/..%2F..%2Fetc%2Fpasswd",
      "/../../../etc/passwd",
      "/.well-known/acme-challenge//held",
      "/.WELL-KNOWN/acme-challenge/held",
      "/",
      "/held",
      "http://a.example/.well-known/acme-challenge/other",
  };
  for (const auto& p : paths) {
    auto resp = get(port, p);
    EXPECT_TRUE(resp.starts_with("HTTP/1.1 404 ")) << p << " → " << resp;
    EXPECT_EQ(resp.find(kThumb), std::string::npos) << p;
  }
}

TEST_F(Http01, OtherMethodsAre405AndGarbageIs400) {
  ASSERT_TRUE(responder->present(task("held")));
  for (const std::string m : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    auto resp = get(port, "/.well-known/acme-challenge/held", m);
    EXPECT_TRUE(resp.starts_with("HTTP/1.1 405 ")) << m << " → " << resp;
    EXPECT_NE(resp.find("Allow: GET, HEAD"), std::string::npos);
  }
  for (const std::string req : {"GET /x\r\n\r\n", "GET  /x HTTP/1.1\r\n\r\n", "GET /x HTTP/2.0\r\n\r\n",
                                "\x16\x03\x01\x02\x01\r\n\r\n", "GET /x HTTP/1.1 extra\r\n\r\n"}) {
    auto resp = send_request(port, req);
    EXPECT_TRUE(resp.starts_with("HTTP/1.1 400 ")) << resp;
  }
}

TEST_F(Http01, OversizedHeaderIs431) {
  std::string req = "GET /.well-known/acme-challenge/x HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n";
  auto resp = send_request(port, req);
  EXPECT_TRUE(resp.starts_with("HTTP/1.1 431 ")) << resp.substr(0, 100);
}

TEST_F(Http01, CleanUpRemovesTheToken) {
  ASSERT_TRUE(responder->present(task("gone")));
  EXPECT_TRUE(get(port, "/.well-known/acme-challenge/gone").starts_with("HTTP/1.1 200 "));
  ASSERT_TRUE(responder->clean_up(task("gone")));
  EXPECT_TRUE(get(port, "/.well-known/acme-challenge/gone").starts_with("HTTP/1.1 404 "));
  EXPECT_TRUE(responder->clean_up(task("never-presented")));
}

TEST_F(Http01, RefusesHostileTokensAtPresent) {
  const std::string bad[] = {"", "../../etc/passwd", "a/b", "a.b", "with space", std::string("nul\0x", 5),
                             "$(reboot)", "tok=", std::string(10 * 1024, 'a'), "\x1b[2J"};
  for (const auto& t : bad) {
    auto r = responder->present(task(t));
    ASSERT_FALSE(r) << "accepted: " << t.substr(0, 40);
    EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
  }
  // A key authorization that does not belong to the token.
  auto mismatch = task("good");
  mismatch.key_authorization = "other." + kThumb;
  EXPECT_FALSE(responder->present(mismatch));
  auto wrong_type = task("good");
  wrong_type.type = "dns-01";
  EXPECT_FALSE(responder->present(wrong_type));
}

TEST_F(Http01, FiftyConcurrentClientsAreAllAnswered) {
  constexpr int kClients = 50;
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(responder->present(task("token" + std::to_string(i))));
  // Connect all first, so that all are open at once, then send and read in parallel.
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) fds.push_back(connect_to(port));
  std::vector<std::future<std::string>> replies;
  for (int i = 0; i < kClients; ++i)
    replies.push_back(std::async(std::launch::async, [fd = fds[i], i] {
      std::string req = "GET /.well-known/acme-challenge/token" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      std::string out = read_all(fd);
      ::close(fd);
      return out;
    }));
  for (int i = 0; i < kClients; ++i) {
    auto resp = replies[i].get();
    EXPECT_EQ(body_of(resp), "token" + std::to_string(i) + "." + kThumb) << i << ": " << resp;
  }
  EXPECT_EQ(responder->stats().answered, static_cast<std::uint64_t>(kClients));
}

TEST(Http01Slow, SlowClientsDoNotBlockOthersAndAreTimedOut) {
  Http01ResponderOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.connection_timeout = 4s;
  Http01Responder r(o);
  ASSERT_TRUE(r.start());
  ASSERT_TRUE(r.present(task("fast")));
  // Ten clients that send half a request line and then nothing.
  std::vector<int> slow;
  for (int i = 0; i < 10; ++i) {
    slow.push_back(connect_to(r.port()));
    ::send(slow.back(), "GET /.well-", 11, MSG_NOSIGNAL);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto resp = get(r.port(), "/.well-known/acme-challenge/fast");
  EXPECT_EQ(body_of(resp), "fast." + kThumb);
  // Served while every slow client still held its connection: a responder that
  // blocked on them would have served it only after dropping them.
  EXPECT_EQ(r.stats().refused, 0u);
  // The slow ones are dropped after the connection timeout.
  for (int fd : slow) {
    EXPECT_EQ(read_all(fd), "");
    ::close(fd);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
  // The responder counts a drop just after closing the socket: give its thread a moment.
  for (int i = 0; i < 200 && r.stats().refused < 10u; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_GE(r.stats().refused, 10u);
}

TEST_F(Http01, PresentAndCleanUpWhileServing) {
  std::atomic<bool> done{false};
  std::thread churn([&] {
    for (int i = 0; !done; ++i) {
      auto t = task("churn" + std::to_string(i % 20));
      (void)responder->present(t);
      (void)responder->clean_up(t);
    }
  });
  ASSERT_TRUE(responder->present(task("steady")));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(body_of(get(port, "/.well-known/acme-challenge/steady")), "steady." + kThumb);
  done = true;
  churn.join();
}

TEST(Http01Lifecycle, StopClosesThePortAndBadAddressesAreRefused) {
  Http01ResponderOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  Http01Responder r(o);
  EXPECT_EQ(r.port(), 0);
  ASSERT_TRUE(r.present(task("early")));  // before start
  ASSERT_TRUE(r.start());
  auto port = r.port();
  EXPECT_TRUE(r.running());
  EXPECT_FALSE(r.start());  // already running
  EXPECT_EQ(body_of(get(port, "/.well-known/acme-challenge/early")), "early." + kThumb);
  r.stop();
  EXPECT_FALSE(r.running());
  EXPECT_EQ(connect_to(port), -1);
  r.stop();  // idempotent

  // The same port taken by another responder: a clear error.
  Http01Responder a(o);
  ASSERT_TRUE(a.start());
  Http01ResponderOptions same = o;
  same.port = a.port();
  Http01Responder b(same);
  auto err = b.start();
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().kind, ErrorKind::Transport);
  EXPECT_NE(err.error().message.find("127.0.0.1:" + std::to_string(a.port())), std::string::npos) << err.error().message;

  for (const std::string addr : {"localhost", "1.2.3", "", "::1 ; rm"}) {
    Http01ResponderOptions bad = o;
    bad.address = addr;
    auto e = Http01Responder(bad).start();
    ASSERT_FALSE(e) << addr;
    EXPECT_EQ(e.error().kind, ErrorKind::Invalid);
  }
}

TEST(Http01Lifecycle, ConnectionCapMakesExtraClientsWaitInTheBacklog) {
  Http01ResponderOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.max_connections = 2;
  o.connection_timeout = 800ms;
  Http01Responder r(o);
  ASSERT_TRUE(r.present(task("capped")));
  ASSERT_TRUE(r.start());
  int idle1 = connect_to(r.port()), idle2 = connect_to(r.port());
  // Both accepted: the cap is reached.
  for (auto until = std::chrono::steady_clock::now() + 5s; r.stats().connections < 2 && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(r.stats().connections, 2u);
  auto t0 = std::chrono::steady_clock::now();
  auto resp = get(r.port(), "/.well-known/acme-challenge/capped");
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(body_of(resp), "capped." + kThumb);
  EXPECT_GE(waited, 500ms);  // served only once the idle ones timed out
  // ...and then served, however slow the machine (load only makes waits longer, so no tight
  // upper bound: the response arriving at all is what shows the backlog was worked off).
  ::close(idle1);
  ::close(idle2);
}

TEST(Http01Lifecycle, ListensOnIpv6Loopback) {
  Http01ResponderOptions o;
  o.address = "[::1]";
  o.port = 0;
  Http01Responder r(o);
  auto s = r.start();
  if (!s) GTEST_SKIP() << "no IPv6 loopback here: " << s.error().message;
  EXPECT_NE(r.port(), 0);
}

}  // namespace
}  // namespace certagent::protocol

namespace certagent::protocol {
namespace {

// pebble validates every name of an order at once; 300 open connections with
// a request each must all be answered, in well under the validation timeout.
TEST_F(Http01, ThreeHundredSimultaneousValidations) {
  constexpr int kClients = 300;
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(responder->present(task("t" + std::to_string(i))));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    fds.push_back(connect_to(port));
    ASSERT_GE(fds.back(), 0) << i;
    std::string req = "GET /.well-known/acme-challenge/t" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    ::send(fds.back(), req.data(), req.size(), MSG_NOSIGNAL);
  }
  int answered = 0;
  for (int i = 0; i < kClients; ++i) {
    answered += body_of(read_all(fds[i])) == "t" + std::to_string(i) + "." + kThumb;
    ::close(fds[i]);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(answered, kClients);
  std::printf("[ measure  ] %d simultaneous validations answered in %lld ms\n", kClients, static_cast<long long>(ms));
}

}  // namespace
}  // namespace certagent::protocol
