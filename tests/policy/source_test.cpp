#include <gtest/gtest.h>

#include "policy/json_text.hpp"
#include "policy/source.hpp"

namespace certagent::policy {
namespace {

constexpr std::string_view kText = R"({
  // a comment with "quotes" and {braces}
  "roles": [
    {"role": "director", /* inline */ "names": {"A b": ["x.{d}", "y"],},},
    {"id": "two",
     "esc\"aped": 1, "\u0061bc": true},
  ],
  "sip_domains": ["münchen.example", "zz.example"],
}
)";

TEST(Source, PathsAreBuiltLikeTheScannerReadsThem) {
  EXPECT_EQ(member_path("", "roles"), "roles");
  EXPECT_EQ(member_path("roles[0]", "names"), "roles[0].names");
  EXPECT_EQ(member_path("names", "A b"), "names[\"A b\"]");
  EXPECT_EQ(member_path("", "esc\"aped"), "[\"esc\\\"aped\"]");
  EXPECT_EQ(element_path("roles", 12), "roles[12]");
  EXPECT_EQ(display_path(""), "(top level)");
}

TEST(Source, FindsValuesAndKeysAtTheirLineAndColumn) {
  ASSERT_TRUE(parse_json(kText, "t"));  // the scanner's precondition
  struct Case { std::string path; Anchor anchor; Position want; };
  const std::vector<Case> cases = {
      {"", Anchor::Value, {1, 1}},
      {"roles", Anchor::Key, {3, 3}},
      {"roles", Anchor::Value, {3, 12}},
      {"roles[0]", Anchor::Value, {4, 5}},
      {"roles[0].role", Anchor::Value, {4, 14}},
      {"roles[0].names", Anchor::Key, {4, 39}},
      {"roles[0].names[\"A b\"]", Anchor::Value, {4, 56}},
      {"roles[0].names[\"A b\"][1]", Anchor::Value, {4, 66}},
      {"roles[1].id", Anchor::Value, {5, 12}},
      {"roles[1][\"esc\\\"aped\"]", Anchor::Key, {6, 6}},
      {"roles[1].abc", Anchor::Key, {6, 22}},  // key written with a \u escape
      {"sip_domains[1]", Anchor::Value, {8, 38}},  // 'ü' is one column
  };
  for (const auto& c : cases) {
    auto pos = find_position(kText, c.path, c.anchor);
    ASSERT_TRUE(pos) << c.path;
    EXPECT_EQ(*pos, c.want) << c.path << " at " << pos->line << ":" << pos->column;
  }
}

TEST(Source, AbsentPathsAreNotFound) {
  EXPECT_FALSE(find_position(kText, "roles[2]"));
  EXPECT_FALSE(find_position(kText, "roles[0].nope"));
  EXPECT_FALSE(find_position(kText, "sip_domains[0].x"));
}

TEST(Source, PositionAtCountsLinesAndCharacters) {
  EXPECT_EQ(position_at("ab\ncd", 0), (Position{1, 1}));
  EXPECT_EQ(position_at("ab\ncd", 4), (Position{2, 2}));
  EXPECT_EQ(position_at("\xc3\xbc" "x", 2), (Position{1, 2}));
  EXPECT_EQ(position_at("a\r\nb", 3), (Position{2, 1}));
  EXPECT_EQ(position_at("ab", 99), (Position{1, 3}));
}

TEST(Source, DuplicateKeysAreReportedAtTheSecondOne) {
  const std::string text = "{\"a\": 1,\n \"b\": {\"c\": 1, \"c\": 2}}";
  auto r = check_duplicate_keys(text, "d.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("d.json:2:16: b.c: duplicate key 'c' (first at line 2, column 8)", 0), 0u)
      << r.error().message;
  EXPECT_TRUE(check_duplicate_keys("{\"a\": {\"c\": 1}, \"b\": {\"c\": 1}}", "d.json"));
}

}  // namespace
}  // namespace certagent::policy

namespace certagent::policy {
namespace {

TEST(Source, LocatedMessagesStayOnePrintableLine) {
  EXPECT_EQ(located("f", {3, 4}, "name 'a\nb\tc\x01'"), "f:3:4: name 'a\\nb\\tc\\x01'");
  EXPECT_EQ(located("f", {1, 1}, "m\xc2\x9b[31m \xc3\xbc"), "f:1:1: m\\u009b[31m \xc3\xbc");  // C1 CSI escaped, ü kept
}

}  // namespace
}  // namespace certagent::policy
