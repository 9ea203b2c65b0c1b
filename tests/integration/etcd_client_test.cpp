// The etcd client against a real three-member etcd cluster with TLS and client-certificate
// authentication (tests/integration/etcd-ctl, run as the CTest test integration.etcd in its own
// network namespace): compare-and-swap gives exactly one winner, a lease's key disappears when
// its holder stops, a member down is stepped over, a certificate etcd does not know is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <thread>

#include "agent/engine/system_waiter.hpp"
#include "agent/engine/pool/election.hpp"
#include "common/process.hpp"
#include "protocol/etcd/client.hpp"
#include "protocol/x509/aead.hpp"

namespace certagent::integration {
namespace {

using ::testing::HasSubstr;
using protocol::EtcdClient;
using protocol::EtcdOptions;

std::map<std::string, std::string> etcd_env() {
  const char* dir = std::getenv("CERTAGENT_ETCD_DIR");
  if (dir == nullptr)
    throw std::runtime_error("CERTAGENT_ETCD_DIR is not set: run these tests through ctest (integration.etcd), "
                             "whose tests/integration/etcd-ctl starts the cluster");
  std::ifstream in(std::string(dir) + "/etcd.env");
  std::map<std::string, std::string> env;
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  if (env.empty()) throw std::runtime_error(std::string("cannot read ") + dir + "/etcd.env");
  return env;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t comma; (comma = s.find(',', start)) != std::string::npos; start = comma + 1)
    out.push_back(s.substr(start, comma - start));
  out.push_back(s.substr(start));
  return out;
}

class Etcd : public ::testing::Test {
 protected:
  void SetUp() override { env_ = etcd_env(); }

  std::unique_ptr<EtcdClient> client(bool stranger = false) const {
    EtcdOptions o;
    o.endpoints = split(env_.at("ENDPOINTS"));
    o.trust_file = env_.at("CA_FILE");
    o.client_certificate_file = env_.at(stranger ? "OTHER_CLIENT_CERT" : "CLIENT_CERT");
    o.client_key_file = env_.at(stranger ? "OTHER_CLIENT_KEY" : "CLIENT_KEY");
    o.timeout = std::chrono::seconds(3);
    o.retry_window = std::chrono::seconds(stranger ? 1 : 15);
    o.waiter = &waiter_;
    auto c = EtcdClient::create(o);
    if (!c) throw std::runtime_error(c.error().message);
    return std::move(*c);
  }

  // etcd-ctl VERB RUNDIR [N]; its standard output.
  std::string member(const char* verb, int n = 0) const {
    ProcessSpec spec;
    spec.argv = {env_.at("CTL"), verb, std::string(std::getenv("CERTAGENT_ETCD_DIR"))};
    if (n != 0) spec.argv.push_back(std::to_string(n));
    spec.inherit_path = true;
    auto r = run_process(spec);
    EXPECT_TRUE(r && r->succeeded()) << verb << " " << n << ": " << (r ? r->err : r.error().message);
    return r ? r->out : std::string();
  }

  std::map<std::string, std::string> env_;
  mutable agent::SleepingWaiter waiter_;
};

TEST_F(Etcd, CompareAndSwapWritesOnlyAtTheRevisionRead) {
  auto c = client();
  const std::string key = "/certagent-test/cas";
  auto first = c->put_if(key, "one", 0);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->written);
  auto again = c->put_if(key, "two", 0);  // "only if absent": it is not
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->written);
  ASSERT_TRUE(again->current);
  EXPECT_EQ(again->current->value, "one");
  const auto revision = again->current->mod_revision;
  auto update = c->put_if(key, "three", revision);
  ASSERT_TRUE(update && update->written);
  auto stale = c->put_if(key, "four", revision);  // the revision read before the update
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale->written);
  EXPECT_EQ(stale->current->value, "three");
  auto got = c->get(key);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->value, "three");
  auto removed = c->delete_if(key, (*got)->mod_revision);
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  auto gone = c->get(key);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
}

// What makes "one order per pool certificate" hold: of many members racing to create the same
// key (each on its own connection, through different members of the cluster), exactly one wins.
TEST_F(Etcd, OfEightRacingCreatorsExactlyOneWins) {
  const std::string key = "/certagent-test/race";
  std::atomic<int> winners{0}, errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      auto c = client();
      auto r = c->put_if(key, "member-" + std::to_string(i), 0);
      if (!r) ++errors;
      else if (r->written) ++winners;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(winners.load(), 1);
  auto c = client();
  auto listed = c->list("/certagent-test/");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 1u);
  ASSERT_TRUE(c->delete_if(key, listed->front().mod_revision));
}

TEST_F(Etcd, ALeasedKeyDisappearsWhenItsHolderStopsRenewing) {
  auto c = client();
  auto lease = c->grant_lease(std::chrono::seconds(2));
  ASSERT_TRUE(lease) << lease.error().message;
  const std::string key = "/certagent-test/leader";
  auto held = c->put_if(key, "m1", 0, *lease);
  ASSERT_TRUE(held && held->written);
  auto kept = c->keep_alive(*lease);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_GT(kept->count(), 0);
  // The holder "dies": nobody renews. etcd drops the key within the TTL (plus its tick).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    auto got = c->get(key);
    ASSERT_TRUE(got) << got.error().message;
    gone = !*got;
  }
  EXPECT_TRUE(gone) << "the leased key outlived its lease by 8 s";
  auto late = c->keep_alive(*lease);
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(late->count(), 0);
  // Another member can now take it.
  auto taken = c->put_if(key, "m2", 0);
  ASSERT_TRUE(taken && taken->written);
  auto now = c->get(key);
  ASSERT_TRUE(now && *now);
  ASSERT_TRUE(c->delete_if(key, (*now)->mod_revision));
}

TEST_F(Etcd, TheLeaderDownIsSteppedOverAndTheErrorNamesEveryEndpointWhenAllRefuse) {
  auto c = client();
  ASSERT_TRUE(c->put_if("/certagent-test/down", "x", 0));
  // The leader dies: the others elect a new one (reads answer "leader changed" or time out
  // meanwhile) and the client goes round them until one answers.
  const int leader = std::atoi(member("stop-leader").c_str());
  ASSERT_GE(leader, 1);
  const std::string dead = "https://127.0.0." + std::to_string(leader) + ":2379";
  auto got = c->get("/certagent-test/down");
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->value, "x");
  EXPECT_NE(c->endpoint(), dead);
  // A fresh client (whichever endpoint is down) too.
  auto fresh = client()->get("/certagent-test/down");
  ASSERT_TRUE(fresh) << fresh.error().message;
  member("start-member", leader);
  ASSERT_TRUE(c->delete_if("/certagent-test/down", (*got)->mod_revision));

  // A client certificate from another CA: every member refuses the handshake.
  auto refused = client(true)->get("/certagent-test/down");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Transport);
  for (const char* endpoint : {"https://127.0.0.1:2379", "https://127.0.0.2:2379", "https://127.0.0.3:2379"})
    EXPECT_THAT(refused.error().message, HasSubstr(endpoint));
}

// What a pool stores: a sealed private key opens with the pool's key and nothing else.
TEST_F(Etcd, ASealedValueRoundTripsThroughEtcdAndOpensOnlyWithThePoolKey) {
  auto key = protocol::aead_key_from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
  auto other = protocol::aead_key_from_base64("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=");
  ASSERT_TRUE(key && other);
  const std::string at = "/certagent-test/pool/front-end/key";
  auto sealed = protocol::aead_seal(*key, "-----BEGIN PRIVATE KEY-----\nsecret\n", at);
  ASSERT_TRUE(sealed);
  auto c = client();
  ASSERT_TRUE(c->put_if(at, *sealed, 0));
  auto got = c->get(at);
  ASSERT_TRUE(got && *got);
  EXPECT_THAT((*got)->value, ::testing::Not(HasSubstr("secret")));
  auto opened = protocol::aead_open(*key, (*got)->value, at);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, "-----BEGIN PRIVATE KEY-----\nsecret\n");
  auto wrong = protocol::aead_open(*other, (*got)->value, at);
  ASSERT_FALSE(wrong);
  EXPECT_THAT(wrong.error().message, HasSubstr("the pool key does not open this value"));
  EXPECT_FALSE(protocol::aead_open(*key, (*got)->value, "/certagent-test/pool/other/key"));  // moved
  ASSERT_TRUE(c->delete_if(at, (*got)->mod_revision));
}

}  // namespace
}  // namespace certagent::integration

namespace certagent::integration {
namespace {

// Two members campaign for one pool certificate: one leads, the other sees who; the leader
// "dies" (stops renewing) and the other takes over within the lease's TTL; a resignation hands
// over at once.
TEST_F(Etcd, OneMemberLeadsAndAnotherTakesOverWhenItsLeaseRunsOut) {
  auto etcd_a = client();
  auto etcd_b = client();
  const std::string key = "/certagent-test/leader/front-end";
  agent::PoolElection a(*etcd_a, key, "fe01", std::chrono::seconds(2));
  agent::PoolElection b(*etcd_b, key, "fe02", std::chrono::seconds(2));
  auto first = a.campaign();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, "fe01");
  EXPECT_TRUE(a.leads());
  auto second = b.campaign();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*second, "fe01");
  EXPECT_FALSE(b.leads());
  auto again = a.campaign();  // the leader campaigning again keeps the lead
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, "fe01");

  // fe01 stops renewing (killed): fe02 leads within the TTL and a margin for etcd's lease tick.
  const auto died = std::chrono::steady_clock::now();
  std::string leader = "fe01";
  while (leader != "fe02" && std::chrono::steady_clock::now() - died < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r = b.campaign();
    ASSERT_TRUE(r) << r.error().message;
    leader = *r;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - died);
  std::cout << "[failover] fe02 leads " << took.count() << " ms after fe01 stopped renewing (TTL 2 s)\n";
  ASSERT_EQ(leader, "fe02");
  EXPECT_TRUE(b.leads());
  auto lost = a.renew();  // fe01 comes back: it must learn that it no longer leads
  ASSERT_TRUE(lost) << lost.error().message;
  EXPECT_FALSE(*lost);
  EXPECT_FALSE(a.leads());

  // fe02 resigns: fe01's next campaign wins at once.
  ASSERT_TRUE(b.resign());
  auto back = a.campaign();
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, "fe01");
  ASSERT_TRUE(a.resign());
  auto none = etcd_a->get(key);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

}  // namespace
}  // namespace certagent::integration
