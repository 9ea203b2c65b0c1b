// HttpsTransport behaviour that needs no server (the rest is in tests/integration:
// transport_limits_test.cpp, transport_connection_test.cpp).
#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>

#include <cstdlib>
#include <fstream>

#include "common/version.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/http/https_transport.hpp"

namespace {

using certagent::ErrorKind;
using namespace certagent::protocol;

TEST(IsHttpsUrl, AcceptsOnlyHttpsWithAHost) {
  EXPECT_TRUE(is_https_url("https://ca.example/dir"));
  EXPECT_TRUE(is_https_url("HTTPS://ca.example/dir"));
  EXPECT_FALSE(is_https_url("http://ca.example/dir"));
  EXPECT_FALSE(is_https_url("https://"));
  EXPECT_FALSE(is_https_url("ftp://ca.example/"));
  EXPECT_FALSE(is_https_url(" https://ca.example/"));
  EXPECT_FALSE(is_https_url(""));
}

TEST(HttpsTransport, DefaultsAreTheDocumentedBounds) {
  auto t = HttpsTransport::create();
  ASSERT_TRUE(t) << t.error().message;
  const auto& o = (*t)->options();
  EXPECT_EQ(o.max_body_bytes, 1u << 20);
  EXPECT_EQ(o.max_header_bytes, 64u << 10);
  EXPECT_EQ(o.user_agent, std::string("certagent/") + certagent::kVersion);
  EXPECT_TRUE(o.trust_file.empty());
  EXPECT_EQ((*t)->requests_sent(), 0u);
}

TEST(HttpsTransport, MissingTrustFileIsRefusedAtCreation) {
  HttpsTransportOptions options;
  options.trust_file = "/nonexistent/bundle.pem";
  auto t = HttpsTransport::create(options);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::Invalid);
  EXPECT_NE(t.error().message.find("/nonexistent/bundle.pem"), std::string::npos) << t.error().message;
}

TEST(HttpsTransport, ZeroBoundsAreRefused) {
  HttpsTransportOptions no_body;
  no_body.max_body_bytes = 0;
  EXPECT_FALSE(HttpsTransport::create(no_body));
  HttpsTransportOptions no_time;
  no_time.total_timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(HttpsTransport::create(no_time));
}

TEST(HttpsTransport, AProxyThatIsNotHttpIsRefusedAtCreation) {
  HttpsTransportOptions options;
  options.proxy = "socks5://127.0.0.1:1080";
  auto t = HttpsTransport::create(options);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::Invalid);
  EXPECT_NE(t.error().message.find("only http:// proxies"), std::string::npos) << t.error().message;
}

TEST(HttpsTransport, ABadProxyFromTheEnvironmentNamesTheVariable) {
  ::unsetenv("https_proxy");
  ::unsetenv("HTTPS_PROXY");
  ::setenv("all_proxy", "socks5://127.0.0.1:1080", 1);
  auto t = HttpsTransport::create();
  ::unsetenv("all_proxy");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::Invalid);
  EXPECT_NE(t.error().message.find("(all_proxy)"), std::string::npos) << t.error().message;
}

TEST(HttpsTransport, MalformedNoProxyEntriesAreWarnedAboutOncePerValue) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  auto& log = acme_log();
  log.sinks().push_back(sink);
  const auto level = log.level();
  log.set_level(spdlog::level::info);
  HttpsTransportOptions options;
  options.proxy = "";
  options.no_proxy = "corp.example, 10.0.0.0/33, *.corp.example";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(HttpsTransport::create(options));
  options.no_proxy = "10.0.0.0/8";
  ASSERT_TRUE(HttpsTransport::create(options));
  auto lines = sink->last_formatted();
  log.sinks().pop_back();
  log.set_level(level);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("ignoring malformed entries 10.0.0.0/33, *.corp.example"), std::string::npos) << lines[0];
}

TEST(HttpsTransport, ATrustFileWithoutCertificatesIsRefusedAtCreation) {
  const std::string path = ::testing::TempDir() + "/empty-bundle.pem";
  { std::ofstream(path) << "not a certificate\n"; }
  HttpsTransportOptions options;
  options.trust_file = path;
  auto t = HttpsTransport::create(options);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::Invalid);
  EXPECT_NE(t.error().message.find(path), std::string::npos) << t.error().message;
}

TEST(HttpsTransport, NonHttpsUrlsAreRefusedWithoutARequest) {
  auto t = HttpsTransport::create();
  ASSERT_TRUE(t) << t.error().message;
  for (const char* url : {"http://127.0.0.1:1/dir", "file:///etc/passwd", "127.0.0.1/dir", ""}) {
    HttpRequest request;
    request.url = url;
    auto r = (*t)->send(request);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid) << url;
    EXPECT_FALSE(r.error().retryable) << url;
    EXPECT_NE(r.error().message.find("only https://"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ((*t)->requests_sent(), 0u);
}

TEST(HttpsTransport, UnresolvableHostIsARetryableTransportError) {
  auto t = HttpsTransport::create();
  ASSERT_TRUE(t) << t.error().message;
  HttpRequest request;
  request.url = "https://no-such-host.invalid/dir";
  auto r = (*t)->send(request);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("https://no-such-host.invalid/dir"), std::string::npos) << r.error().message;
  EXPECT_EQ((*t)->requests_sent(), 1u);
}

}  // namespace
