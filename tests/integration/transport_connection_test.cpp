// CurlTransport's connection handling, staged by the small test servers:
// keep-alive reuse, a server that closes a kept-alive connection (idle, or
// after reading a request it never answers: a GET goes out once more, a POST
// does not), chunked bodies, the CONNECT proxy (tunnel, credentials, refusal,
// no_proxy, the environment), cancellation and the connect timeout, and TLS
// verification (wrong name, untrusted root, the trust file alone).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "connect_proxy.hpp"
#include "pebble_env.hpp"
#include "protocol/http/curl_transport.hpp"
#include "support/test_pki.hpp"
#include "tls_test_server.hpp"
#include "transport_support.hpp"

namespace {

using certagent::ErrorKind;
using namespace certagent::integration;
using namespace certagent::protocol;
using namespace std::chrono_literals;

// 200 with `body`, keeping the connection open (no Connection: close).
TlsTestServer::Handler keep_alive(std::string body, bool chunked = false) {
  return [body = std::move(body), chunked](const std::string& request, Reply& reply) {
    if (request.starts_with("HEAD ")) {
      reply.write(fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.size()));
    } else if (chunked) {
      const auto half = body.size() / 2;
      reply.write(fmt::format("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
                              half, body.substr(0, half), body.size() - half, body.substr(half)));
    } else {
      reply.write(fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", body.size(), body));
    }
    reply.keep_open();
  };
}

// Writes a PEM file under the test's temporary directory.
std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(TransportConnection, KeepAliveServesEveryRequestOnOneConnection) {
  auto server = serve(keep_alive("{}"));
  auto t = transport();
  for (int i = 0; i < 3; ++i) {
    auto r = send(*t, server->url(fmt::format("/r{}", i)), i == 1 ? Method::Head : Method::Get);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, i == 1 ? "" : "{}");
  }
  EXPECT_EQ(t->requests_sent(), 3u);
  EXPECT_EQ(t->connections_opened(), 1u);
  EXPECT_EQ(server->connections(), 1u);
}

TEST(TransportConnection, ChunkedBodiesAreReassembledAndTheConnectionKept) {
  const std::string body(3000, 'c');
  auto server = serve(keep_alive(body, /*chunked=*/true));
  auto t = transport();
  for (int i = 0; i < 2; ++i) {
    auto r = send(*t, server->url("/chunked"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, body);
  }
  EXPECT_EQ(t->connections_opened(), 1u);
}

TEST(TransportConnection, AnIdleConnectionTheServerClosedIsReplacedBeforeTheRequest) {
  auto server = serve([](const std::string&, Reply& reply) {  // answers, then closes without saying so
    reply.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  auto t = transport();
  ASSERT_TRUE(send(*t, server->url("/one")));
  // The server has closed the connection (its FIN is on our socket: loopback delivers at once).
  const auto limit = std::chrono::steady_clock::now() + 5s;
  while (server->closed() < 1 && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server->closed(), 1u);
  auto second = send(*t, server->url("/two"), Method::Post);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->body, "ok");
  EXPECT_EQ(t->connections_opened(), 2u);
  EXPECT_EQ(server->requests().size(), 2u) << "nothing was sent twice";
}

// The first request is answered on a kept-alive connection; the server reads the
// second and closes without answering; later ones are answered.
TlsTestServer::Handler drop_second() {
  auto count = std::make_shared<std::atomic<int>>(0);
  return [count](const std::string&, Reply& reply) {
    if (++*count == 2) return;
    reply.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    reply.keep_open();
  };
}

TEST(TransportConnection, AGetOnAReusedConnectionThatDropsUnansweredIsSentOnceMore) {
  auto server = serve(drop_second());
  auto t = transport();
  ASSERT_TRUE(send(*t, server->url("/one")));
  auto second = send(*t, server->url("/two"));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->body, "ok");
  EXPECT_EQ(server->requests().size(), 3u);
  EXPECT_EQ(t->connections_opened(), 2u);
}

TEST(TransportConnection, APostOnAReusedConnectionThatDropsUnansweredIsNotResent) {
  auto server = serve(drop_second());
  auto t = transport();
  ASSERT_TRUE(send(*t, server->url("/one")));
  auto post = send(*t, server->url("/new-order"), Method::Post);
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(post.error().retryable) << "the caller may sign a fresh request";
  EXPECT_NE(post.error().message.find("without answering"), std::string::npos) << post.error().message;
  EXPECT_NE(post.error().message.find("POST " + server->url("/new-order")), std::string::npos);
  EXPECT_EQ(server->requests().size(), 2u) << "the POST went out once";
  auto after = send(*t, server->url("/three"));  // the transport recovers on a new connection
  ASSERT_TRUE(after) << after.error().message;
}

TEST(TransportConnection, TheProxyTunnelCarriesVerifiedTlsAndTheCredentials) {
  auto server = serve(keep_alive("{}"));
  ConnectProxy proxy;
  auto options = fixture_trust();
  options.proxy = fmt::format("http://user:pa%20ss@127.0.0.1:{}", proxy.port());
  auto t = transport(options);
  for (int i = 0; i < 2; ++i) {
    auto r = send(*t, server->url("/dir"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "{}");
  }
  auto seen = proxy.requests();
  ASSERT_EQ(seen.size(), 1u) << "one tunnel for the kept-alive connection";
  EXPECT_TRUE(seen[0].starts_with(fmt::format("CONNECT 127.0.0.1:{} HTTP/1.1\r\n", server->port()))) << seen[0];
  EXPECT_NE(seen[0].find("Proxy-Authorization: Basic dXNlcjpwYSBzcw==\r\n"), std::string::npos) << seen[0];
  EXPECT_EQ(server->connections(), 1u);
}

TEST(TransportConnection, AProxyRefusalIsAnErrorThatNeverShowsTheCredentials) {
  auto server = serve(keep_alive("{}"));
  ConnectProxy proxy(403);
  auto options = fixture_trust();
  options.proxy = fmt::format("http://user:hunter2@127.0.0.1:{}", proxy.port());
  auto r = send(*transport(options), server->url("/dir"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_FALSE(r.error().retryable);
  EXPECT_NE(r.error().message.find("refused the tunnel to 127.0.0.1"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(fmt::format("127.0.0.1:{}", proxy.port())), std::string::npos);
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
  EXPECT_TRUE(server->requests().empty());
}

// A password with '/' and '#' works percent-encoded, and shows in no error.
TEST(TransportConnection, APercentEncodedProxyPasswordWithSlashAndHashIsSentAndNeverShown) {
  auto server = serve(keep_alive("{}"));
  ConnectProxy proxy(403);
  auto options = fixture_trust();
  options.proxy = fmt::format("http://alice:s3cr3t%2FP%23W@127.0.0.1:{}", proxy.port());
  auto r = send(*transport(options), server->url("/dir"));
  ASSERT_FALSE(r);
  auto seen = proxy.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("Proxy-Authorization: Basic YWxpY2U6czNjcjN0L1AjVw==\r\n"), std::string::npos) << seen[0];
  for (const char* secret : {"s3cr3t", "alice", "YWxpY2U6"})
    EXPECT_EQ(r.error().message.find(secret), std::string::npos) << r.error().message;
}

TEST(TransportConnection, AProxyNobodyListensOnIsARetryableError) {
  auto server = serve(keep_alive("{}"));
  int dead_port = 0;
  {
    ConnectProxy gone;
    dead_port = gone.port();
  }
  auto options = fixture_trust();
  options.proxy = fmt::format("127.0.0.1:{}", dead_port);
  auto r = send(*transport(options), server->url("/dir"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("connecting to the proxy"), std::string::npos) << r.error().message;
}

TEST(TransportConnection, NoProxyHostsAreReachedDirectly) {
  auto server = serve(keep_alive("{}"));
  ConnectProxy proxy;
  auto options = fixture_trust();
  options.proxy = proxy.url();
  options.no_proxy = "example.org, 127.0.0.1";
  auto r = send(*transport(options), server->url("/dir"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(proxy.requests().empty());
}

TEST(TransportConnection, NoProxyCidrRangesReachLiteralAddressesDirectly) {
  auto server = serve(keep_alive("{}"));
  ConnectProxy proxy;
  auto options = fixture_trust();
  options.proxy = proxy.url();
  options.no_proxy = "10.0.0.0/33 fd00::/8, 127.0.0.0/8";  // a malformed entry is skipped
  auto direct = send(*transport(options), server->url("/dir"));
  ASSERT_TRUE(direct) << direct.error().message;
  EXPECT_TRUE(proxy.requests().empty());
  options.no_proxy = "127.0.0.0/8";  // a range does not cover a name, even one for that address
  auto named = send(*transport(options), fmt::format("https://localhost:{}/dir", server->port()));
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_EQ(proxy.requests().size(), 1u);
}

TEST(TransportConnection, TheProxyComesFromTheEnvironmentByDefault) {
  auto server = serve(keep_alive("{}"));
  ConnectProxy proxy;
  ::setenv("https_proxy", proxy.url().c_str(), 1);
  ::setenv("all_proxy", "http://127.0.0.1:1", 1);  // https_proxy wins
  ::unsetenv("no_proxy");
  ::unsetenv("NO_PROXY");
  CurlTransportOptions options;
  options.trust_file = require_pebble_env("default").tls_root;
  auto t = CurlTransport::create(options);
  ::unsetenv("https_proxy");
  ::unsetenv("all_proxy");
  ASSERT_TRUE(t) << t.error().message;
  auto r = send(**t, server->url("/dir"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(proxy.requests().size(), 1u);
}

TEST(TransportConnection, CancellationEndsAHandshakeNobodyAnswers) {
  SilentListener silent;
  std::atomic<bool> cancel{false};
  auto options = fixture_trust();
  options.cancel = &cancel;
  auto t = transport(options);
  std::thread stopper([&] {  // once the ClientHello waits for an answer that never comes
    const auto limit = std::chrono::steady_clock::now() + 5s;
    while (!silent.has_pending_bytes() && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(5ms);
    cancel.store(true);
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = send(*t, fmt::format("https://127.0.0.1:{}/dir", silent.port()));
  const auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Cancelled) << r.error().message;
  EXPECT_LT(took, 2s);
}

// The contract is 100 ms from the flag to the failure (the transfer looks every
// 50 ms); the bound leaves 100 ms more for a loaded machine's scheduling.
TEST(TransportConnection, CancellationEndsAWaitForTheAnswerWithin100Ms) {
  auto server = serve([](const std::string&, Reply& reply) {
    while (!reply.stopping()) std::this_thread::sleep_for(20ms);
  });
  std::atomic<bool> cancel{false};
  auto options = fixture_trust();
  options.cancel = &cancel;
  auto t = transport(options);
  std::chrono::steady_clock::time_point cancelled_at{};
  std::thread stopper([&] {
    const auto limit = std::chrono::steady_clock::now() + 5s;
    while (server->requests().empty() && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(5ms);
    cancelled_at = std::chrono::steady_clock::now();
    cancel.store(true);
  });
  auto r = send(*t, server->url("/slow"), Method::Post);
  const auto ended_at = std::chrono::steady_clock::now();
  stopper.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Cancelled) << r.error().message;
  const auto after_cancel = std::chrono::duration_cast<std::chrono::milliseconds>(ended_at - cancelled_at);
  std::cout << "[transport] cancelled " << after_cancel.count() << " ms after the flag was set\n";
  EXPECT_LT(after_cancel, 200ms);
  EXPECT_EQ(server->requests().size(), 1u);
}

TEST(TransportConnection, TheConnectTimeoutBoundsAHandshakeNobodyAnswers) {
  SilentListener silent;
  auto options = fixture_trust();
  options.connect_timeout = 500ms;
  const auto start = std::chrono::steady_clock::now();
  auto r = send(*transport(options), fmt::format("https://127.0.0.1:{}/dir", silent.port()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("timed out after 500 ms"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(TransportConnection, AHostNameIsResolvedAndVerified) {
  auto server = serve(keep_alive("{}"));
  auto r = send(*transport(), fmt::format("https://localhost:{}/dir", server->port()));
  ASSERT_TRUE(r) << r.error().message;
}

TEST(TransportConnection, ACertificateForAnotherNameIsRefused) {
  certagent::testing::TestCa ca("wrong-name root");
  auto key = certagent::testing::new_key();
  certagent::testing::CertSpec spec;
  spec.dns_names = {"other.example"};
  spec.ip_addresses = {"10.9.9.9"};
  auto leaf = ca.issue(key, spec);
  const auto cert_file = write_file("wrong-name-leaf.pem", certagent::testing::must(leaf.pem()));
  const auto key_file = write_file("wrong-name-key.pem", certagent::testing::must(key.to_pem()));
  auto server = serve(keep_alive("{}"), cert_file, key_file);
  auto options = fixture_trust();
  options.trust_file = write_file("wrong-name-root.pem", ca.pem());
  for (const auto& url : {server->url("/dir"), fmt::format("https://localhost:{}/dir", server->port())}) {
    auto r = send(*transport(options), url);
    ASSERT_FALSE(r) << url;
    EXPECT_FALSE(r.error().retryable);
    EXPECT_NE(r.error().message.find("TLS verification failed"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("matches target host name"), std::string::npos) << r.error().message;
  }
}

TEST(TransportConnection, TheTrustFileAloneDecidesAndTheSystemStoreIsNotConsulted) {
  auto server = serve(keep_alive("{}"));
  const std::string fixture_root = require_pebble_env("default").tls_root;
  certagent::testing::TestCa other("unrelated root");
  const auto other_root = write_file("unrelated-root.pem", other.pem());
  ::setenv("SSL_CERT_FILE", fixture_root.c_str(), 1);  // the "system store" now trusts the fixture
  auto system = fixture_trust();
  system.trust_file.clear();
  auto via_system = transport(system);
  auto only_other = fixture_trust();
  only_other.trust_file = other_root;
  auto via_other = transport(only_other);
  ::unsetenv("SSL_CERT_FILE");
  auto ok = send(*via_system, server->url("/dir"));
  EXPECT_TRUE(ok) << ok.error().message;
  via_system.reset();  // the one-connection-at-a-time server moves on
  auto refused = send(*via_other, server->url("/dir"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("TLS verification failed"), std::string::npos) << refused.error().message;
}

}  // namespace
