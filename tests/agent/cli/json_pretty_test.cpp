#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "agent/cli/json_pretty.hpp"

namespace {

using certagent::agent::pretty_json;

TEST(PrettyJson, IndentsNestedObjectsAndArraysInDocumentOrder) {
  auto v = boost::json::parse(R"({"b":1,"a":{"x":[true,null,"s\"q"],"e":{},"f":[]}})");
  EXPECT_EQ(pretty_json(v),
            "{\n"
            "  \"b\": 1,\n"
            "  \"a\": {\n"
            "    \"x\": [\n"
            "      true,\n"
            "      null,\n"
            "      \"s\\\"q\"\n"
            "    ],\n"
            "    \"e\": {},\n"
            "    \"f\": []\n"
            "  }\n"
            "}\n");
}

TEST(PrettyJson, ScalarsPrintAsJson) {
  EXPECT_EQ(pretty_json(boost::json::value("x")), "\"x\"\n");
  EXPECT_EQ(pretty_json(boost::json::value(-3)), "-3\n");
  EXPECT_EQ(pretty_json(boost::json::value(false)), "false\n");
}

}  // namespace
