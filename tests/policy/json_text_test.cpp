#include <gtest/gtest.h>

#include "policy/json_text.hpp"

namespace certagent::policy {
namespace {

TEST(JsonText, AcceptsCommentsAndTrailingCommas) {
  auto v = parse_json("// c\n{\"a\": [1, 2,], /* c */ \"b\": {\"c\": 1,},}\n// end\n", "f");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->at("a").as_array().size(), 2u);
}

TEST(JsonText, SyntaxErrorsSayWhereAndWhat) {
  struct Case { std::string text; std::string prefix; std::string says; };
  const std::vector<Case> cases = {
      {"{\"a\": 1\n \"b\": 2}", "f.json:2:2: ", "',' or ':' is missing"},
      {"{\n  a: 1}", "f.json:2:3: ", "\"quoted\" key"},
      {"{\"a\": 'x'}", "f.json:1:7: ", "double quotes"},
      {"{\"a\": [1, 2", "f.json:1:12: ", "ends inside a value"},
      {"{\"a\": 1} {}", "f.json:1:10: ", "after the end"},
      {"{\"mode\": 0640}", "f.json:1:10: ", "modes as strings"},
      {std::string(40, '[') + std::string(40, ']'), "f.json:1:33: ", "nested deeper than 32"},
      {"   \n", "f.json:1:1: ", "policy is empty"},
      {"{\"a\": \"b\xff\"}", "f.json:1:", "syntax error"},
  };
  for (const auto& c : cases) {
    auto v = parse_json(c.text, "f.json");
    ASSERT_FALSE(v) << c.text;
    EXPECT_EQ(v.error().message.rfind(c.prefix, 0), 0u) << c.text << " -> " << v.error().message;
    EXPECT_NE(v.error().message.find(c.says), std::string::npos) << c.text << " -> " << v.error().message;
  }
}

}  // namespace
}  // namespace certagent::policy
