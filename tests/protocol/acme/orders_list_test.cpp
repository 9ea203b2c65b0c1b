// The account's orders list (RFC 8555 §7.1.2.1) against recorded exchanges:
// pebble 2.4's answers, pagination, and a hostile CA's loops, huge lists and
// downgraded URLs.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "acme_fakes.hpp"
#include "protocol/acme/orders_list.hpp"

namespace certagent::protocol {
namespace {
using namespace testing;

constexpr const char* kAccount = kAccountUrl;
constexpr const char* kList = "https://ca.test/list-orderz/1";

std::string list_json(const std::vector<std::string>& urls) {
  boost::json::array a;
  for (const auto& u : urls) a.emplace_back(u);
  return boost::json::serialize(boost::json::object{{"orders", a}});
}

HttpResponse page(const std::vector<std::string>& urls, const std::string& next = "") {
  std::vector<HttpHeader> extra{{"Link", "<https://ca.test/dir>;rel=\"index\""}};
  if (!next.empty()) extra.push_back({"Link", "<" + next + ">;rel=\"next\""});
  return reply(200, list_json(urls), "application/json; charset=utf-8", extra);
}

using OrdersListTest = AccountSessionTest;

TEST_F(OrdersListTest, PebblesAccountNamesItsOrdersListWhichIsReadByPostAsGet) {
  // As pebble 2.4 answered a POST-as-GET of the account URL.
  net.add(Method::Post, kAccount,
          reply(200, R"({"status":"valid","orders":"https://ca.test/list-orderz/1","key":{"kty":"EC"}})"));
  auto url = account_orders_url(*session);
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(*url, kList);
  EXPECT_EQ(decode_jws(net.sent.back().body).payload, "") << "POST-as-GET";

  net.add(Method::Post, kList, page({"https://ca.test/my-order/a", "https://ca.test/my-order/b"}));
  auto list = list_account_orders(*session, *url);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->orders, (std::vector<std::string>{"https://ca.test/my-order/a", "https://ca.test/my-order/b"}));
  EXPECT_FALSE(list->truncated);
  EXPECT_EQ(decode_jws(net.sent.back().body).payload, "");
}

TEST_F(OrdersListTest, AnAccountWithoutAnOrdersListOrWithAnHttpOneIsAClearError) {
  net.add(Method::Post, kAccount, reply(200, R"({"status":"valid"})"));
  auto none = account_orders_url(*session);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("offers no orders list"), std::string::npos) << none.error().message;

  net.add(Method::Post, kAccount, reply(200, R"({"status":"valid","orders":"http://ca.test/list"})"));
  auto plain = account_orders_url(*session);
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("not https://"), std::string::npos) << plain.error().message;

  auto direct = list_account_orders(*session, "http://ca.test/list");
  ASSERT_FALSE(direct);
  EXPECT_EQ(net.script.size(), 0u);
}

TEST_F(OrdersListTest, PagesAreFollowedAlongLinkNextAndDuplicatesDropped) {
  net.add(Method::Post, kList, page({"https://ca.test/o/1", "https://ca.test/o/2"}, "https://ca.test/list?p=2"));
  net.add(Method::Post, "https://ca.test/list?p=2", page({"https://ca.test/o/2", "https://ca.test/o/3"}));
  auto list = list_account_orders(*session, kList);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->orders, (std::vector<std::string>{"https://ca.test/o/1", "https://ca.test/o/2", "https://ca.test/o/3"}));
  EXPECT_EQ(list->skipped, 1u);
  EXPECT_FALSE(list->truncated);
}

TEST_F(OrdersListTest, ANextThatLoopsBackEndsTheWalk) {
  net.add(Method::Post, kList, page({"https://ca.test/o/1"}, "https://ca.test/list?p=2"));
  net.add(Method::Post, "https://ca.test/list?p=2", page({"https://ca.test/o/2"}, kList));
  auto list = list_account_orders(*session, kList);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->orders.size(), 2u);
  EXPECT_TRUE(list->truncated);
  EXPECT_EQ(net.sent.size(), 4u) << "directory, nonce, two pages: the loop is not followed";
}

TEST_F(OrdersListTest, AnEndlessChainOfPagesStopsAtThePageLimit) {
  for (int i = 0; i < 3; ++i) {
    const std::string url = i == 0 ? kList : fmt::format("https://ca.test/list?p={}", i);
    net.add(Method::Post, url, page({fmt::format("https://ca.test/o/{}", i)}, fmt::format("https://ca.test/list?p={}", i + 1)));
  }
  auto list = list_account_orders(*session, kList, OrdersListLimits{3, 1000});
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->orders.size(), 3u);
  EXPECT_TRUE(list->truncated);
  EXPECT_TRUE(net.script.empty());
}

TEST_F(OrdersListTest, AHugeListIsCutAtTheEntryLimit) {
  std::vector<std::string> many;
  for (int i = 0; i < 20000; ++i) many.push_back(fmt::format("https://ca.test/o/{}", i));
  net.add(Method::Post, kList, page(many, "https://ca.test/list?p=2"));
  auto list = list_account_orders(*session, kList);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->orders.size(), OrdersListLimits{}.max_entries);
  EXPECT_TRUE(list->truncated);
  EXPECT_EQ(net.sent.size(), 3u) << "the next page is not read once the limit is reached";
}

TEST_F(OrdersListTest, EntriesThatAreNotHttpsStringsAreSkipped) {
  net.add(Method::Post, kList,
          reply(200, R"({"orders":["http://ca.test/o/1",42,{"x":1},"file:///etc/passwd","https://ca.test/o/2"]})"));
  auto list = list_account_orders(*session, kList);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->orders, std::vector<std::string>{"https://ca.test/o/2"});
  EXPECT_EQ(list->skipped, 4u);
}

TEST_F(OrdersListTest, ANextPageOffHttpsIsRefusedWithAClearError) {
  net.add(Method::Post, kList, page({"https://ca.test/o/1"}, "http://ca.test/list?p=2"));
  auto list = list_account_orders(*session, kList);
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().kind, ErrorKind::Protocol);
  EXPECT_NE(list.error().message.find("not https://"), std::string::npos) << list.error().message;
}

TEST(OrdersPage, ABodyWithoutAnOrdersArrayOrNotJsonIsAProtocolError) {
  for (const char* body : {R"({"orders":"https://ca.test/o/1"})", R"({})", R"([1,2])", "not json"}) {
    auto p = parse_orders_page(reply(200, body), kList, 10);
    ASSERT_FALSE(p) << body;
    EXPECT_EQ(p.error().kind, ErrorKind::Protocol) << body;
  }
}

TEST(OrdersPage, TerminalEscapesInANextUrlDoNotReachTheMessage) {
  auto p = parse_orders_page(
      reply(200, list_json({}), "application/json", {{"Link", "<http://x/\x1b[31mred>;rel=\"next\""}}), kList, 10);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message.find('\x1b'), std::string::npos) << p.error().message;
}

}  // namespace
}  // namespace certagent::protocol
