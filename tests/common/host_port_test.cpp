// The one HOST:PORT parser (common/host_port.hpp) behind the policy's `listen`, `acme issue
// --http-01-listen` and `run --metrics-listen`.
#include <gtest/gtest.h>

#include "common/host_port.hpp"

namespace certagent {
namespace {

TEST(HostPort, TheThreeForms) {
  auto a = parse_host_port("127.0.0.1:80").value();
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 80);
  auto b = parse_host_port(":8080").value();
  EXPECT_EQ(b.host, "");
  EXPECT_EQ(b.port, 8080);
  auto c = parse_host_port("[::1]:9464").value();
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 9464);
  EXPECT_EQ(parse_host_port("localhost:0").value().port, 0) << "0: the caller decides whether it may listen there";
}

TEST(HostPort, RefusesSayingWhatIsWrong) {
  struct Case { const char* text; const char* says; };
  for (const Case& c : {Case{"127.0.0.1", "no port; write HOST:PORT, :PORT or [IPv6]:PORT"}, Case{"host:", "0 to 65535"},
                        Case{":65536", "0 to 65535"}, Case{":-1", "0 to 65535"}, Case{":80x", "0 to 65535"},
                        Case{"::1:80", "needs brackets; write HOST:PORT, :PORT or [IPv6]:PORT"},
                        Case{"[::1:80", "needs brackets"}}) {
    auto r = parse_host_port(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << c.text << ": " << r.error().message;
  }
}

}  // namespace
}  // namespace certagent
