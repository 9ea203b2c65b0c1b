// The UPDATE messages (RFC 2136) the dns-01 solver sends, read back through ldns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ldns/ldns.h>

#include "protocol/dns/rfc2136.hpp"

namespace certagent::protocol {
namespace {

std::string rr_text(const ldns_rr* rr) {
  char* s = ldns_rr2str(rr);
  std::string out = s;
  free(s);  // NOLINT
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// The update section of a message, each RR as ldns prints it.
std::vector<std::string> update_section(ldns_pkt* pkt) {
  std::vector<std::string> out;
  const ldns_rr_list* list = ldns_pkt_authority(pkt);  // the update section is the third
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) out.push_back(rr_text(ldns_rr_list_rr(list, i)));
  return out;
}

const std::vector<TxtRecord> kRecords{{"_acme-challenge.www.acme.test", "abcDEF-_0123456789abcdefghijklmnopqrstuvwxy"},
                                      {"_acme-challenge.acme.test", "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210_-zyxwv"}};

TEST(Rfc2136Update, AllRecordsOfAnOrderGoInOneAddMessage) {
  auto pkt = build_txt_update("acme.test", kRecords, UpdateOp::Add, 60);
  ASSERT_TRUE(pkt) << pkt.error().message;
  EXPECT_EQ(ldns_pkt_get_opcode(pkt->get()), LDNS_PACKET_UPDATE);
  EXPECT_EQ(ldns_update_zocount(pkt->get()), 1);
  EXPECT_EQ(ldns_update_prcount(pkt->get()), 0);
  EXPECT_EQ(ldns_update_upcount(pkt->get()), 2);
  const ldns_rr* zone = ldns_rr_list_rr(ldns_pkt_question(pkt->get()), 0);
  EXPECT_EQ(rr_text(zone), "acme.test.\tIN\tSOA");
  EXPECT_THAT(update_section(pkt->get()),
              ::testing::ElementsAre("_acme-challenge.www.acme.test.\t60\tIN\tTXT\t\"" + kRecords[0].value + "\"",
                                     "_acme-challenge.acme.test.\t60\tIN\tTXT\t\"" + kRecords[1].value + "\""));
}

TEST(Rfc2136Update, DeleteRemovesExactlyThoseValues) {
  auto pkt = build_txt_update("acme.test", kRecords, UpdateOp::Delete);
  ASSERT_TRUE(pkt) << pkt.error().message;
  // §2.5.4: class NONE, TTL 0, the value — other TXT records at the name stay.
  EXPECT_THAT(update_section(pkt->get()),
              ::testing::ElementsAre("_acme-challenge.www.acme.test.\t0\tNONE\tTXT\t\"" + kRecords[0].value + "\"",
                                     "_acme-challenge.acme.test.\t0\tNONE\tTXT\t\"" + kRecords[1].value + "\""));
}

TEST(Rfc2136Update, TheWireFormRoundTrips) {
  auto pkt = build_txt_update("acme.test", kRecords, UpdateOp::Add, 60);
  ASSERT_TRUE(pkt);
  uint8_t* wire = nullptr;
  size_t size = 0;
  ASSERT_EQ(ldns_pkt2wire(&wire, pkt->get(), &size), LDNS_STATUS_OK);
  ldns_pkt* back = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&back, wire, size), LDNS_STATUS_OK);
  free(wire);  // NOLINT
  EXPECT_EQ(update_section(back), update_section(pkt->get()));
  ldns_pkt_free(back);
}

TEST(Rfc2136Update, BadNamesAndValuesAreRefused) {
  EXPECT_FALSE(build_txt_update("acme..test", kRecords, UpdateOp::Add));
  EXPECT_FALSE(build_txt_update("acme.test", {{"_acme-challenge.acme.test", std::string(300, 'a')}}, UpdateOp::Add));
}

TEST(Rfc2136Update, ServerAddressesMustBeIpAddresses) {
  auto v4 = parse_dns_server("192.0.2.53:5353");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->str(), "192.0.2.53:5353");
  auto v6 = parse_dns_server("[2001:db8::53]:53");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->str(), "[2001:db8::53]:53");
  EXPECT_FALSE(parse_dns_server("ns1.example.com:53"));
  EXPECT_FALSE(parse_dns_server("192.0.2.53"));
}

}  // namespace
}  // namespace certagent::protocol
