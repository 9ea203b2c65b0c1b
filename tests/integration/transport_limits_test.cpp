// CurlTransport's bounds, staged by a small HTTPS server that uses the fixture's
// leaf certificate: trickling bodies, oversize bodies and headers, redirects.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <utility>

#include "common/version.hpp"
#include "protocol/http/curl_transport.hpp"
#include "tls_test_server.hpp"
#include "transport_support.hpp"

namespace {

using certagent::ErrorKind;
using namespace certagent::integration;
using namespace certagent::protocol;
using namespace std::chrono_literals;

// One GET with a new transport, and how long it took (the transport is made before the clock starts).
std::pair<certagent::Result<HttpResponse>, std::chrono::steady_clock::duration> timed_send(
    const CurlTransportOptions& options, const std::string& url) {
  auto t = transport(options);
  const auto start = std::chrono::steady_clock::now();
  auto response = send(*t, url);
  return {std::move(response), std::chrono::steady_clock::now() - start};
}

// Answers 200 with `body`; with `chunked`, without a Content-Length.
TlsTestServer::Handler answer(std::string body, bool chunked = false) {
  return [body = std::move(body), chunked](const std::string&, Reply& reply) {
    if (chunked) {
      reply.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
      reply.write(fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", body.size(), body));
    } else {
      reply.write(fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                              body.size(), body));
    }
  };
}

// Sends headers promising 1000 bytes, then `rate` bytes every second.
TlsTestServer::Handler trickle(int rate) {
  return [rate](const std::string&, Reply& reply) {
    if (!reply.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n")) return;
    for (int i = 0; i < 20 && !reply.stopping(); ++i) {
      if (!reply.write(std::string(static_cast<std::size_t>(rate), 'x'))) return;
      std::this_thread::sleep_for(1s);
    }
  };
}

TEST(TransportLimits, BodyTricklingOneByteASecondFailsWithinTheLowSpeedWindow) {
  auto server = serve(trickle(1));
  auto options = fixture_trust();
  options.low_speed_bytes_per_second = 16;
  options.low_speed_window = 2s;
  auto [response, elapsed] = timed_send(options, server->url("/slow"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(response.error().retryable);
  EXPECT_NE(response.error().message.find("too slow"), std::string::npos) << response.error().message;
  EXPECT_GE(elapsed, 1500ms);
  EXPECT_LE(elapsed, 5s);
}

// Answers at once with a small body.
TlsTestServer::Handler prompt() {
  return [](const std::string&, Reply& reply) {
    reply.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  };
}

// Reads the request and never answers (until the server stops).
TlsTestServer::Handler stall() {
  return [](const std::string&, Reply& reply) {
    while (!reply.stopping()) std::this_thread::sleep_for(20ms);
  };
}

TEST(TransportLimits, AHandshakeLongerThanTheLowSpeedWindowIsNotTooSlow) {
  auto server = serve(prompt());
  server->delay_handshake(1500ms);  // the TCP connection is accepted, then nothing for 1.5 s
  auto options = fixture_trust();
  // A floor the ~100-byte request cannot meet alone: a window started at connect would fail at the first wait.
  options.low_speed_bytes_per_second = 1000;
  options.low_speed_window = 1s;
  options.connect_timeout = 5s;
  auto response = send(*transport(options), server->url("/after-a-slow-handshake"));
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->body, "ok");
}

TEST(TransportLimits, TheLowSpeedWindowIsCountedFromTheEndOfTheHandshake) {
  auto server = serve(stall());
  server->delay_handshake(1000ms);
  auto options = fixture_trust();
  options.low_speed_bytes_per_second = 1000;  // the request's bytes alone do not meet it
  options.low_speed_window = 2s;
  options.connect_timeout = 5s;
  auto [response, elapsed] = timed_send(options, server->url("/stalls"));
  ASSERT_FALSE(response);
  EXPECT_TRUE(response.error().retryable);
  EXPECT_NE(response.error().message.find("too slow"), std::string::npos) << response.error().message;
  EXPECT_GE(elapsed, 2800ms) << "1 s of handshake, then the whole 2 s window";
  EXPECT_LE(elapsed, 5s);
}

TEST(TransportLimits, AStalledHandshakeIsBoundedByTheConnectTimeoutNotTheLowSpeedWindow) {
  auto server = serve(prompt());
  server->delay_handshake(4s);
  auto options = fixture_trust();
  options.connect_timeout = 1200ms;
  options.low_speed_window = 1s;
  auto [response, elapsed] = timed_send(options, server->url("/never-shakes-hands"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(response.error().retryable);
  EXPECT_NE(response.error().message.find("timed out after 1200 ms"), std::string::npos) << response.error().message;
  EXPECT_EQ(response.error().message.find("too slow"), std::string::npos) << response.error().message;
  EXPECT_GE(elapsed, 1100ms);
  EXPECT_LE(elapsed, 3s);
}

TEST(TransportLimits, TotalTimeoutBoundsAStreamFastEnoughForTheLowSpeedLimit) {
  auto server = serve(trickle(40));
  auto options = fixture_trust();
  options.low_speed_bytes_per_second = 16;
  options.low_speed_window = 2s;
  options.total_timeout = 2500ms;
  auto [response, elapsed] = timed_send(options, server->url("/steady"));
  ASSERT_FALSE(response);
  EXPECT_TRUE(response.error().retryable);
  EXPECT_NE(response.error().message.find("timed out"), std::string::npos) << response.error().message;
  EXPECT_LE(elapsed, 5s);
}

TEST(TransportLimits, BodyAtTheCapIsAccepted) {
  auto server = serve(answer(std::string(1000, 'a')));
  auto options = fixture_trust();
  options.max_body_bytes = 1000;
  auto response = send(*transport(options), server->url("/exact"));
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->body.size(), 1000u);
}

TEST(TransportLimits, DeclaredBodyOverTheCapIsAnErrorNotATruncation) {
  auto server = serve(answer(std::string(1001, 'a')));
  auto options = fixture_trust();
  options.max_body_bytes = 1000;
  auto response = send(*transport(options), server->url("/big"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, ErrorKind::Transport);
  EXPECT_FALSE(response.error().retryable);
  EXPECT_NE(response.error().message.find("exceeds the limit of 1000 bytes"), std::string::npos)
      << response.error().message;
}

TEST(TransportLimits, UndeclaredBodyOverTheCapIsAnError) {
  auto server = serve(answer(std::string(1001, 'a'), /*chunked=*/true));
  auto options = fixture_trust();
  options.max_body_bytes = 1000;
  auto response = send(*transport(options), server->url("/big-chunked"));
  ASSERT_FALSE(response);
  EXPECT_NE(response.error().message.find("exceeds the limit of 1000 bytes"), std::string::npos)
      << response.error().message;
}

TEST(TransportLimits, DefaultBodyCapIsOneMebibyte) {
  auto server = serve(answer(std::string((1u << 20) + 1, 'a'), /*chunked=*/true));
  auto response = send(*transport(), server->url("/huge"));
  ASSERT_FALSE(response);
  EXPECT_NE(response.error().message.find("exceeds the limit of 1048576 bytes"), std::string::npos)
      << response.error().message;
}

TEST(TransportLimits, OversizeHeadersAreAnError) {
  auto server = serve([](const std::string&, Reply& reply) {
    std::string headers = "HTTP/1.1 200 OK\r\nConnection: close\r\n";
    for (int i = 0; i < 100; ++i) headers += fmt::format("X-Filler-{}: {}\r\n", i, std::string(1000, 'h'));
    reply.write(headers + "Content-Length: 0\r\n\r\n");
  });
  auto response = send(*transport(), server->url("/headers"));
  ASSERT_FALSE(response);
  EXPECT_NE(response.error().message.find("headers exceed the limit of 65536 bytes"), std::string::npos)
      << response.error().message;
}

TEST(TransportLimits, RedirectsAreReturnedNotFollowed) {
  auto server = serve([](const std::string&, Reply& reply) {
    reply.write("HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n");
  });
  auto response = send(*transport(), server->url("/moved"));
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 301);
  EXPECT_EQ(response->header("location").value_or(""), "/elsewhere");
  EXPECT_EQ(server->requests().size(), 1u);
}

TEST(TransportLimits, RequestCarriesUserAgentMethodBodyAndHeaders) {
  auto server = serve(answer("{}"));
  auto t = transport();
  HttpRequest request;
  request.method = Method::Post;
  request.url = server->url("/acct");
  request.content_type = "application/jose+json";
  request.body = R"({"protected":"e30","payload":"","signature":"c2ln"})";
  request.headers.push_back({"X-Test", "yes"});
  auto response = t->send(request);
  ASSERT_TRUE(response) << response.error().message;
  auto seen = server->requests();
  ASSERT_EQ(seen.size(), 1u);
  const std::string& raw = seen[0];
  EXPECT_TRUE(raw.starts_with("POST /acct HTTP/1.1\r\n")) << raw;
  EXPECT_NE(raw.find(std::string("User-Agent: certagent/") + certagent::kVersion + "\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Content-Type: application/jose+json\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("X-Test: yes\r\n"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("Expect:"), std::string::npos) << raw;
  EXPECT_TRUE(raw.ends_with("\r\n\r\n" + request.body)) << raw;
}

TEST(TransportLimits, ConnectionRefusedIsRetryable) {
  int port = 0;
  {
    auto server = serve(answer(""));
    port = std::stoi(server->url("").substr(std::string("https://127.0.0.1:").size()));
  }  // closed: nothing listens there now
  auto response = send(*transport(), fmt::format("https://127.0.0.1:{}/dir", port));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(response.error().retryable);
  EXPECT_NE(response.error().message.find(fmt::format("127.0.0.1:{}/dir", port)), std::string::npos)
      << response.error().message;
}

}  // namespace
