// CurlTransport behaviour that needs no server (the rest is in tests/integration:
// transport_limits_test.cpp, transport_connection_test.cpp, transport_framing_test.cpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/version.hpp"
#include "protocol/http/curl_transport.hpp"

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
  EXPECT_FALSE(is_https_url("https://ca.example/\x1b[2J"));
  EXPECT_FALSE(is_https_url("https://ca.example/a\nb"));
  EXPECT_FALSE(is_https_url(""));
}

TEST(CurlTransport, DefaultsAreTheDocumentedBounds) {
  auto t = CurlTransport::create();
  ASSERT_TRUE(t) << t.error().message;
  const auto& o = (*t)->options();
  EXPECT_EQ(o.max_body_bytes, 1u << 20);
  EXPECT_EQ(o.max_header_bytes, 64u << 10);
  EXPECT_EQ(o.user_agent, std::string("certagent/") + certagent::kVersion);
  EXPECT_TRUE(o.trust_file.empty());
  EXPECT_EQ((*t)->requests_sent(), 0u);
}

TEST(CurlTransport, MissingTrustFileIsRefusedAtCreation) {
  CurlTransportOptions options;
  options.trust_file = "/nonexistent/bundle.pem";
  auto t = CurlTransport::create(options);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::Invalid);
  EXPECT_NE(t.error().message.find("/nonexistent/bundle.pem"), std::string::npos) << t.error().message;
}

TEST(CurlTransport, ATrustFileWithoutCertificatesIsRefusedAtCreation) {
  const std::string path = ::testing::TempDir() + "/empty-bundle.pem";
  { std::ofstream(path) << "not a certificate\n"; }
  CurlTransportOptions options;
  options.trust_file = path;
  auto t = CurlTransport::create(options);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::Invalid);
  EXPECT_NE(t.error().message.find(path), std::string::npos) << t.error().message;
}

TEST(CurlTransport, ZeroBoundsAreRefused) {
  CurlTransportOptions no_body;
  no_body.max_body_bytes = 0;
  EXPECT_FALSE(CurlTransport::create(no_body));
  CurlTransportOptions no_time;
  no_time.total_timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(CurlTransport::create(no_time));
}

// https_proxy=http://alice:s3cr3t/P#W@proxy:3128 is no URL ('/' ends the authority,
// leaving port "s3cr3t"): refused, naming the variable, never showing the value.
TEST(CurlTransport, AProxyPasswordWithSlashAndHashIsRefusedWithoutBeingShown) {
  ::unsetenv("https_proxy");
  ::unsetenv("HTTPS_PROXY");
  ::setenv("all_proxy", "http://alice:s3cr3t/P#W@proxy.example:3128", 1);
  auto t = CurlTransport::create();
  ::unsetenv("all_proxy");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::Invalid);
  EXPECT_NE(t.error().message.find("(all_proxy)"), std::string::npos) << t.error().message;
  EXPECT_NE(t.error().message.find("%2F"), std::string::npos) << "says how to write it: " << t.error().message;
  EXPECT_EQ(t.error().message.find("s3cr3t"), std::string::npos) << t.error().message;
  EXPECT_EQ(t.error().message.find("alice"), std::string::npos) << t.error().message;
}

TEST(CurlTransport, NonHttpsUrlsAreRefusedWithoutARequest) {
  auto t = CurlTransport::create();
  ASSERT_TRUE(t) << t.error().message;
  for (const char* url : {"http://127.0.0.1:1/dir", "file:///etc/passwd", "127.0.0.1/dir", "", "https://a/\x1b[2J"}) {
    HttpRequest request;
    request.url = url;
    auto r = (*t)->send(request);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid) << url;
    EXPECT_FALSE(r.error().retryable) << url;
    EXPECT_NE(r.error().message.find("only https://"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos) << r.error().message;
  }
  EXPECT_EQ((*t)->requests_sent(), 0u);
}

TEST(CurlTransport, UnresolvableHostIsARetryableTransportError) {
  CurlTransportOptions options;
  options.proxy = "";
  auto t = CurlTransport::create(options);
  ASSERT_TRUE(t) << t.error().message;
  HttpRequest request;
  request.url = "https://no-such-host.invalid/dir";
  auto r = (*t)->send(request);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("https://no-such-host.invalid/dir"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("resolving no-such-host.invalid"), std::string::npos) << r.error().message;
  EXPECT_EQ((*t)->requests_sent(), 1u);
}

}  // namespace
