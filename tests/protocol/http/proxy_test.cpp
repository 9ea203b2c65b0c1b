// Proxy settings as curl reads them: the proxy URL, no_proxy matching (names,
// addresses, CIDR ranges, "*", malformed entries) and the environment
// variables (https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY; lower case first).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "protocol/http/proxy.hpp"

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

TEST(BypassesProxy, Ipv4CidrRangesMatchAddressesInside) {
  EXPECT_TRUE(bypasses_proxy("10.0.0.0/8", "10.1.2.3"));
  EXPECT_TRUE(bypasses_proxy("10.0.0.0/8", "10.255.255.255"));
  EXPECT_FALSE(bypasses_proxy("10.0.0.0/8", "11.0.0.1"));
  EXPECT_FALSE(bypasses_proxy("10.0.0.0/8", "9.255.255.255"));
  EXPECT_TRUE(bypasses_proxy("192.168.0.0/20", "192.168.15.255")) << "a prefix inside a byte";
  EXPECT_FALSE(bypasses_proxy("192.168.0.0/20", "192.168.16.0"));
  EXPECT_TRUE(bypasses_proxy("10.1.2.3/32", "10.1.2.3"));
  EXPECT_FALSE(bypasses_proxy("10.1.2.3/32", "10.1.2.4"));
  EXPECT_TRUE(bypasses_proxy("10.9.9.9/8", "10.0.0.1")) << "host bits of the entry are ignored";
  EXPECT_TRUE(bypasses_proxy("0.0.0.0/0", "203.0.113.7"));
  EXPECT_TRUE(bypasses_proxy("ca.example, 172.16.0.0/12", "172.31.0.1"));
}

TEST(BypassesProxy, Ipv6CidrRangesMatchAddressesInside) {
  EXPECT_TRUE(bypasses_proxy("fd00::/8", "fd12:3456::1"));
  EXPECT_TRUE(bypasses_proxy("fd00::/8", "[fd12:3456::1]")) << "a bracketed host";
  EXPECT_TRUE(bypasses_proxy("[fd00::]/8", "fdff::1")) << "a bracketed range";
  EXPECT_FALSE(bypasses_proxy("fd00::/8", "fe80::1"));
  EXPECT_TRUE(bypasses_proxy("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(bypasses_proxy("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(bypasses_proxy("2001:db8::/127", "2001:db8::1"));
  EXPECT_FALSE(bypasses_proxy("2001:db8::/127", "2001:db8::2"));
  EXPECT_TRUE(bypasses_proxy("::/0", "::1"));
}

TEST(BypassesProxy, RangesNeverMatchNamesOrTheOtherFamily) {
  EXPECT_FALSE(bypasses_proxy("10.0.0.0/8", "10.example"));
  EXPECT_FALSE(bypasses_proxy("10.0.0.0/8", "ca.10.0.0.0"));
  EXPECT_FALSE(bypasses_proxy("0.0.0.0/0", "::1"));
  EXPECT_FALSE(bypasses_proxy("10.0.0.0/8", "::ffff:10.0.0.1")) << "an IPv4-mapped host is IPv6";
  EXPECT_FALSE(bypasses_proxy("::/0", "127.0.0.1"));
  EXPECT_FALSE(bypasses_proxy("::/0", "localhost"));
}

TEST(BypassesProxy, AddressesCompareAsAddresses) {
  EXPECT_TRUE(bypasses_proxy("0::1", "::1"));
  EXPECT_TRUE(bypasses_proxy("fd00:0:0::5", "[fd00::5]"));
  EXPECT_FALSE(bypasses_proxy("10.0.0.1", "10.0.0.10"));
  EXPECT_FALSE(bypasses_proxy("10.0.0.1", "host.10.0.0.1")) << "an address is never a domain suffix";
}

TEST(BypassesProxy, BlanksSeparateEntriesAsCommasDo) {
  EXPECT_TRUE(bypasses_proxy("a.example b.example", "x.b.example"));
  EXPECT_TRUE(bypasses_proxy("a.example,\t10.0.0.0/8", "10.2.3.4"));
  EXPECT_FALSE(bypasses_proxy("a.example b.example", "c.example"));
}

TEST(BypassesProxy, MalformedEntriesAreIgnoredAndTheOthersStillApply) {
  const std::vector<std::string> malformed = {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "corp.example/8",
                                              "fd00::/129",  "/8",        "10.0.0.0/8/8", "10.0.0.0/-1",
                                              "10.0.0.0/+8", "*.corp.example", "1.2.3.4/99999999999999999999"};
  for (const auto& entry : malformed) {
    EXPECT_FALSE(bypasses_proxy(entry, "10.1.2.3")) << entry;
    EXPECT_FALSE(bypasses_proxy(entry, "fd00::1")) << entry;
    EXPECT_FALSE(bypasses_proxy(entry, "a.corp.example")) << entry;
    EXPECT_TRUE(bypasses_proxy(entry + ",10.0.0.0/8", "10.1.2.3")) << entry;
    EXPECT_TRUE(bypasses_proxy("corp.example," + entry, "a.corp.example")) << entry;
    EXPECT_EQ(ignored_no_proxy_entries(entry + ", ok.example"), std::vector<std::string>{entry}) << entry;
  }
}

TEST(BypassesProxy, WellFormedListsHaveNothingIgnored) {
  EXPECT_TRUE(ignored_no_proxy_entries("*, localhost, .corp.example, 127.0.0.1, [::1], 10.0.0.0/8, [fd00::]/8,,")
                  .empty());
  EXPECT_TRUE(ignored_no_proxy_entries("").empty());
  EXPECT_EQ(ignored_no_proxy_entries("a/1 b/2"), (std::vector<std::string>{"a/1", "b/2"}));
}

// Sets or unsets (nullptr) each variable the proxy environment reads.
void set_proxy_env(const char* https_lower, const char* https_upper, const char* all_lower, const char* all_upper) {
  const std::pair<const char*, const char*> vars[] = {
      {"https_proxy", https_lower}, {"HTTPS_PROXY", https_upper}, {"all_proxy", all_lower}, {"ALL_PROXY", all_upper}};
  for (const auto& [name, value] : vars) {
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
}

TEST(ProxyEnvironment, AllProxyIsTheFallbackLowerCaseFirst) {
  ::unsetenv("http_proxy");
  set_proxy_env(nullptr, nullptr, "http://all-lower:1", "http://all-upper:2");
  auto env = proxy_environment();
  EXPECT_EQ(env.proxy, "http://all-lower:1");
  EXPECT_EQ(env.proxy_variable, "all_proxy");
  set_proxy_env(nullptr, nullptr, nullptr, "http://all-upper:2");
  env = proxy_environment();
  EXPECT_EQ(env.proxy, "http://all-upper:2");
  EXPECT_EQ(env.proxy_variable, "ALL_PROXY");
  set_proxy_env(nullptr, nullptr, nullptr, nullptr);
}

TEST(ProxyEnvironment, HttpsProxyInEitherCaseWinsOverAllProxy) {
  set_proxy_env(nullptr, "http://https-upper:3", "http://all-lower:1", nullptr);
  auto env = proxy_environment();
  EXPECT_EQ(env.proxy, "http://https-upper:3");
  EXPECT_EQ(env.proxy_variable, "HTTPS_PROXY");
  set_proxy_env("http://https-lower:4", "http://https-upper:3", "http://all-lower:1", "http://all-upper:2");
  EXPECT_EQ(proxy_environment().proxy_variable, "https_proxy");
  set_proxy_env("", "", "http://all-lower:1", nullptr);
  EXPECT_EQ(proxy_environment().proxy_variable, "all_proxy") << "an empty variable counts as unset";
  set_proxy_env(nullptr, nullptr, nullptr, nullptr);
}

TEST(ProxyEnvironment, HttpProxyIsNotReadForHttpsAsInCurl) {
  set_proxy_env(nullptr, nullptr, nullptr, nullptr);
  ::setenv("http_proxy", "http://plain:80", 1);
  ::setenv("HTTP_PROXY", "http://plain:80", 1);
  auto env = proxy_environment();
  EXPECT_EQ(env.proxy, "");
  EXPECT_EQ(env.proxy_variable, "");
  ::unsetenv("http_proxy");
  ::unsetenv("HTTP_PROXY");
}

TEST(ProxyEnvironment, LowerCaseFirstThenUpperCase) {
  set_proxy_env(nullptr, nullptr, nullptr, nullptr);
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
