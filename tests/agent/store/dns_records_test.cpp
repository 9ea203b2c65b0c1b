// The journal of dns-01 TXT records added and not yet deleted (<state>/dns01-records).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "agent/store/dns_records.hpp"
#include "agent_fixtures.hpp"

namespace certagent::agent {
namespace {

TEST(DnsRecordsJournal, WrittenReadBackAndRemovedWhenEmpty) {
  testing::StoreFixture f;
  const std::vector<PendingDnsRecord> records{{"acme.test", "_acme-challenge.a.acme.test", "abc_-1"},
                                              {"lag.test", "_acme-challenge.lag.test", "xyz"}};
  ASSERT_TRUE(write_pending_dns_records(f.s, records));
  const auto file = f.s.dir() / "dns01-records";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto back = read_pending_dns_records(f.s);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, records);
  ASSERT_TRUE(write_pending_dns_records(f.s, {}));
  EXPECT_FALSE(std::filesystem::exists(file));
  auto none = read_pending_dns_records(f.s);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(DnsRecordsJournal, AFileCertagentDidNotWriteIsAnErrorNamingItsLine) {
  testing::StoreFixture f;
  std::ofstream(f.s.dir() / "dns01-records") << "acme.test _acme-challenge.acme.test v\nnonsense\n";
  auto r = read_pending_dns_records(f.s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("dns01-records:2: not a record certagent wrote"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace certagent::agent
