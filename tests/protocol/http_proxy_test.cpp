// Proxy settings as curl reads them: the proxy URL, no_proxy matching and
// the environment variables (lower case first).
#include <gtest/gtest.h>

#include <cstdlib>

#include "protocol/http_proxy.hpp"

namespace {

using certagent::ErrorKind;
using namespace certagent::protocol;

TEST(ParseProxyUrl, HostPortAndDecodedCredentials) {
  auto p = parse_proxy_url("http://alice:s%40cret@proxy.corp:3128/");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(*p);
  EXPECT_EQ((*p)->host, "proxy.corp");
  EXPECT_EQ((*p)->port, 3128);
  EXPECT_EQ((*p)->credentials, "alice:s@cret");
  EXPECT_EQ((*p)->where(), "proxy.corp:3128") << "never the credentials";
}

TEST(ParseProxyUrl, SchemeAndPortAreOptional) {
  auto p = parse_proxy_url("proxy.corp");
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->port, 1080);
  EXPECT_TRUE((*p)->credentials.empty());
  auto v6 = parse_proxy_url("http://[fd00::1]:8080");
  ASSERT_TRUE(v6 && *v6);
  EXPECT_EQ((*v6)->host, "fd00::1");
  EXPECT_EQ((*v6)->where(), "[fd00::1]:8080");
  auto none = parse_proxy_url("  ");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(ParseProxyUrl, OtherSchemesAndBadPortsAreInvalid) {
  for (const char* url : {"https://proxy:443", "socks5://proxy:1080", "http://proxy:99999", "http://:8080",
                          "http://[fd00::1"}) {
    auto p = parse_proxy_url(url);
    ASSERT_FALSE(p) << url;
    EXPECT_EQ(p.error().kind, ErrorKind::Invalid) << url;
  }
}

TEST(BypassesProxy, ExactSuffixWildcardAndAddresses) {
  EXPECT_TRUE(bypasses_proxy("*", "ca.example"));
  EXPECT_TRUE(bypasses_proxy("localhost, .corp.example", "acme.corp.example"));
  EXPECT_TRUE(bypasses_proxy("corp.example", "acme.corp.example"));
  EXPECT_TRUE(bypasses_proxy("corp.example", "CORP.example"));
  EXPECT_FALSE(bypasses_proxy("corp.example", "notcorp.example"));
  EXPECT_FALSE(bypasses_proxy("corp.example", "example"));
  EXPECT_TRUE(bypasses_proxy("127.0.0.1,::1", "127.0.0.1"));
  EXPECT_TRUE(bypasses_proxy("[::1]", "[::1]"));
  EXPECT_FALSE(bypasses_proxy("0.0.1", "127.0.0.1")) << "addresses match whole, not as suffixes";
  EXPECT_FALSE(bypasses_proxy("", "ca.example"));
  EXPECT_FALSE(bypasses_proxy(" , ", "ca.example"));
}

TEST(ProxyEnvironment, LowerCaseFirstThenUpperCase) {
  ::setenv("HTTPS_PROXY", "http://upper:1", 1);
  ::setenv("https_proxy", "http://lower:2", 1);
  ::setenv("NO_PROXY", "upper.example", 1);
  ::unsetenv("no_proxy");
  auto env = proxy_environment();
  EXPECT_EQ(env.proxy, "http://lower:2");
  EXPECT_EQ(env.no_proxy, "upper.example");
  ::unsetenv("https_proxy");
  EXPECT_EQ(proxy_environment().proxy, "http://upper:1");
  ::unsetenv("HTTPS_PROXY");
  ::unsetenv("NO_PROXY");
  EXPECT_EQ(proxy_environment().proxy, "");
}

}  // namespace
