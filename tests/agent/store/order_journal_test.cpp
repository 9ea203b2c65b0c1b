// The order journal's one JSON form (agent/store/order_journal.hpp): what the file holds and what a
// pool's leader seals into etcd. Read back whole; anything else is refused, naming its source.
#include <gtest/gtest.h>

#include "agent/store/order_journal.hpp"

namespace certagent::agent {
namespace {

OrderJournal sample() {
  OrderJournal j;
  j.certificate_id = "fe-web";
  j.order_url = "https://ca.example/order/7";
  j.names = {"webpool01.contoso.com", "lyncdiscover.contoso.com"};
  j.key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  j.profile = "tlsserver";
  j.account_url = "https://ca.example/acct/1";
  j.intent_time = 1796000000;
  return j;
}

TEST(OrderJournalJson, WhatIsWrittenReadsBackWhole) {
  const OrderJournal j = sample();
  auto back = parse_order_journal(order_journal_json(j), "etcd key journal/fe-web");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->certificate_id, j.certificate_id);
  EXPECT_EQ(back->order_url, j.order_url);
  EXPECT_EQ(back->names, j.names);
  EXPECT_EQ(back->key_pem, j.key_pem);
  EXPECT_EQ(back->profile, j.profile);
  EXPECT_EQ(back->account_url, j.account_url);
  EXPECT_EQ(back->intent_time, j.intent_time);
}

TEST(OrderJournalJson, AnythingElseIsRefusedNamingWhereItCameFrom) {
  for (const std::string& text : {std::string("{not json"), std::string("{\"format\":1}"), std::string("[]"),
                                 [] {
                                   std::string t = order_journal_json(sample());
                                   t.replace(t.find("\"format\":1"), 10, "\"format\":2");
                                   return t;
                                 }()}) {
    auto parsed = parse_order_journal(text, "etcd key journal/fe-web");
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().kind, ErrorKind::Storage);
    EXPECT_NE(parsed.error().message.find("etcd key journal/fe-web is not an order journal"), std::string::npos)
        << parsed.error().message;
  }
}

}  // namespace
}  // namespace certagent::agent
