// HttpsTransport behaviour that needs no server (the rest is in tests/integration:
// transport_limits_test.cpp, transport_connection_test.cpp).
#include <gtest/gtest.h>

#include <fstream>

#include "common/version.hpp"
#include "protocol/https_transport.hpp"

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
