// The solver's choices that need no DNS server (the record check against a real one is in
// tests/integration/ca_dns_persist_test.cpp).
#include <gtest/gtest.h>

#include "protocol/acme/dns_persist_solver.hpp"
#include "protocol/dns/txt_lookup.hpp"

namespace certagent::protocol {
namespace {

TEST(DnsPersistSolver, TheIssuerDomainIsThePolicysWhenTheCaOffersItElseTheCasFirst) {
  EXPECT_EQ(choose_issuer_domain({"a.ca", "b.ca"}, std::nullopt), "a.ca");
  EXPECT_EQ(choose_issuer_domain({"a.ca", "b.ca"}, "b.ca"), "b.ca");
  auto refused = choose_issuer_domain({"a.ca", "b.ca"}, "other.ca");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Policy);
  EXPECT_NE(refused.error().message.find("'other.ca' is not one the CA accepts for dns-persist-01 (it names: a.ca, b.ca)"),
            std::string::npos) << refused.error().message;
  EXPECT_FALSE(choose_issuer_domain({}, std::nullopt));
}

TEST(DnsPersistSolver, AResolverThatIsNotAnAddressIsRefused) {
  for (const char* bad : {"dns.example:53", "127.0.0.1", ":53"}) {
    auto r = lookup_txt("_validation-persist.a.example", TxtLookupOptions{bad, 1});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid) << bad << ": " << r.error().message;
  }
}

TEST(DnsPersistSolver, CleanUpNeverTouchesTheRecord) {
  DnsPersistSolver solver(DnsPersistOptions{});
  ChallengeTask task{"a.example", "dns-persist-01", "", "", ""};
  EXPECT_TRUE(solver.clean_up(task));
  EXPECT_EQ(solver.type(), "dns-persist-01");
}

}  // namespace
}  // namespace certagent::protocol
