#include "protocol/acme/link_header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace certagent::protocol {
namespace {

const std::string kBase = "https://ca.example:14000/my-order/7?x=1";

std::vector<Link> parse_ok(const std::vector<std::string>& values) {
  auto r = parse_link_headers(values, kBase);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : std::vector<Link>{};
}

struct Case {
  std::vector<std::string> values;
  std::vector<Link> expected;
};

TEST(LinkHeader, ParsesWhatAcmeServersSend) {
  const Case cases[] = {
      {{R"(<https://ca.example/dir>;rel="index")"}, {{"https://ca.example/dir", "index"}}},
      {{R"(<https://ca.example/dir>; rel=index)"}, {{"https://ca.example/dir", "index"}}},
      // pebble's certificate response: several Link headers
      {{R"(<https://ca.example/cert/1/1>;rel="alternate")", R"(<https://ca.example/cert/1/2>;rel="alternate")",
        R"(<https://ca.example/dir>;rel="index")"},
       {{"https://ca.example/cert/1/1", "alternate"},
        {"https://ca.example/cert/1/2", "alternate"},
        {"https://ca.example/dir", "index"}}},
      // several links in one header, commas inside quotes and <> are not separators
      {{R"(<https://a.example/x,y>; rel="up"; title="a, b", <https://b.example/>;rel=alternate)"},
       {{"https://a.example/x,y", "up"}, {"https://b.example/", "alternate"}}},
      // rel with several values, mixed case, extra spaces, other params first
      {{R"(<https://a.example/>; type="text/plain"; REL="Alternate  UP"; anchor="#x")"},
       {{"https://a.example/", "alternate"}, {"https://a.example/", "up"}}},
      // only the first rel counts
      {{R"(<https://a.example/>; rel=up; rel=index)"}, {{"https://a.example/", "up"}}},
      // no rel: skipped; empty list elements: allowed
      {{R"(<https://a.example/>; title="t", , <https://b.example/>; rel=up,)"}, {{"https://b.example/", "up"}}},
      // escaped quote inside a quoted string; star parameter
      {{R"(<https://a.example/>; title="say \"hi\""; title*=UTF-8'de'n%c3%a4chstes; rel="up")"},
       {{"https://a.example/", "up"}}},
      // absolute path resolved against the request's origin
      {{R"(</acme/cert/9>;rel="alternate")"}, {{"https://ca.example:14000/acme/cert/9", "alternate"}}},
      {{}, {}},
      {{""}, {}},
  };
  for (const auto& c : cases) {
    auto got = parse_ok(c.values);
    EXPECT_EQ(got, c.expected) << (c.values.empty() ? "(none)" : c.values[0]);
  }
}

TEST(LinkHeader, RefusesMalformedAndHostileInput) {
  const std::vector<std::string> bad = {
      R"(<https://a.example/; rel="up")",            // unterminated <
      R"(<https://a.example/>; rel="up)",            // unterminated quote
      R"(<https://a.example/>; rel="up\)",           // escape at the very end
      R"(https://a.example/; rel=up)",               // no <>
      R"(<https://a.example/> rel=up)",              // missing ;
      R"(<https://a.example/>; rel=)",               // = without value
      R"(<https://a.example/>; =up)",                // param without name
      R"(<https://a.example/>; rel=up junk)",        // stray text
      R"(<//evil.example/x>; rel=up)",               // network-path reference
      R"(<../../etc/passwd>; rel=up)",               // relative path
      R"(<x>; rel=up)",
      R"(<?q=1>; rel=up)",
      "<https://a.example/\x1b[31m>; rel=up",       // control character in target
      "<https://a.example/ x>; rel=up",              // space in target
      "<https://a.example/>; rel=\"up\x01\"",        // control character in quoted string
  };
  for (const auto& b : bad) {
    auto r = parse_link_headers({b}, kBase);
    EXPECT_FALSE(r) << "accepted: " << b;
    if (!r) {
      EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
      EXPECT_NE(r.error().message.find("Link header"), std::string::npos) << r.error().message;
      EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
    }
  }
}

TEST(LinkHeader, RefusesOversizedHeadersQuickly) {
  std::string huge = "<https://a.example/" + std::string(100 * 1024, 'a') + ">; rel=up";
  auto r = parse_link_headers({huge}, kBase);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("too large"), std::string::npos) << r.error().message;

  // Within the byte cap, but thousands of links.
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "<https://a.example/" + std::to_string(i) + ">;rel=up,";
  ASSERT_LT(many.size(), kMaxLinkHeaderBytes);
  auto r2 = parse_link_headers({many}, kBase);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("too many links"), std::string::npos) << r2.error().message;

  // Unterminated quote running to the end of a large header.
  std::string open_quote = "<https://a.example/>; title=\"" + std::string(60 * 1024, 'q');
  EXPECT_FALSE(parse_link_headers({open_quote}, kBase));
}

TEST(LinkHeader, PicksByRelation) {
  auto links = parse_ok({R"(<https://ca.example/c/1>;rel="alternate", <https://ca.example/c/2>;rel="Alternate")",
                         R"(<https://ca.example/dir>;rel="index", <https://ca.example/o/1>;rel=up)"});
  EXPECT_EQ(links_with_rel(links, kRelAlternate),
            (std::vector<std::string>{"https://ca.example/c/1", "https://ca.example/c/2"}));
  EXPECT_EQ(first_link_with_rel(links, kRelIndex), "https://ca.example/dir");
  EXPECT_EQ(first_link_with_rel(links, "UP"), "https://ca.example/o/1");
  EXPECT_EQ(first_link_with_rel(links, "next"), std::nullopt);
}

TEST(LinkHeader, HttpsPredicate) {
  const std::pair<std::string, bool> cases[] = {
      {"https://ca.example/dir", true},
      {"HTTPS://ca.example:14000/x?y#z", true},
      {"https://[::1]:14000/dir", true},
      {"https://ca.example", true},
      {"http://ca.example/dir", false},
      {"ftp://ca.example/", false},
      {"https://", false},
      {"https:///path", false},
      {"https://:443/", false},
      {"https://[]/", false},
      {"https://user:pw@ca.example/", false},
      {"https://ca.example/a b", false},
      {"https://ca.example/\x1b", false},
      {"https://ca.example/<x>", false},
      {"//ca.example/", false},
      {"/relative", false},
      {"", false},
      {"https://ca.example/" + std::string(5000, 'a'), false},
  };
  for (const auto& [url, want] : cases) EXPECT_EQ(is_https_url(url), want) << url;
  // A parsed http:// alternate is returned, and the predicate is what refuses it.
  auto links = parse_ok({R"(<http://downgrade.example/c>;rel="alternate")"});
  ASSERT_EQ(links.size(), 1u);
  EXPECT_FALSE(is_https_url(links[0].url));
}

}  // namespace
}  // namespace certagent::protocol
