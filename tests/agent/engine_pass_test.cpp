// Engine::pass without a CA: the summary it gives the daemon, the previous
// policy kept in force, failures backing off, and stored versions rebound
// without any order. (Ordering itself is tested against pebble.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "agent/engine_pass.hpp"
#include "agent/store.hpp"
#include "agent_fixtures.hpp"

namespace certagent::agent {
namespace {

using ::testing::HasSubstr;

struct EnginePass : ::testing::Test, testing::EngineFixture {
  std::chrono::sys_seconds now() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }
};

TEST_F(EnginePass, AnUnreachableCaFailsThePassAndBacksOffTheCertificate) {
  Engine engine({policy.string(), 4}, store);
  const auto t = now();
  auto s = engine.pass(at(t));
  EXPECT_TRUE(s.failed);
  EXPECT_TRUE(s.incomplete);
  EXPECT_FALSE(s.policy_error);
  ASSERT_EQ(s.certificates.size(), 1u);
  EXPECT_EQ(s.certificates[0].id, "front-end");
  EXPECT_EQ(s.certificates[0].consecutive_failures, 1u);
  EXPECT_THAT(s.certificates[0].last_error, HasSubstr("127.0.0.1:1"));
  ASSERT_EQ(s.attempts.size(), 1u);
  EXPECT_EQ(s.attempts[0].action, "issue");
  EXPECT_FALSE(s.attempts[0].succeeded);
  ASSERT_TRUE(s.next_wake);
  EXPECT_GT(*s.next_wake, t);
  EXPECT_LE(*s.next_wake, t + std::chrono::minutes(1));

  // Still backing off: no attempt, not a failure, but incomplete.
  auto again = engine.pass(at(t + std::chrono::seconds(10)));
  EXPECT_FALSE(again.failed);
  EXPECT_TRUE(again.incomplete);
  EXPECT_TRUE(again.attempts.empty());
  EXPECT_EQ(again.certificates[0].consecutive_failures, 1u);
  // After the wait it is tried again, and the count goes on.
  auto later = engine.pass(at(t + std::chrono::minutes(2)));
  EXPECT_EQ(later.attempts.size(), 1u);
  EXPECT_EQ(later.certificates[0].consecutive_failures, 2u);
}

TEST_F(EnginePass, RetryNowAttemptsACertificateThatIsBackingOffAndKeepsCounting) {
  Engine engine({policy.string(), 4}, store);
  const auto t = now();
  ASSERT_EQ(engine.pass(at(t)).certificates.at(0).consecutive_failures, 1u);
  ASSERT_TRUE(engine.pass(at(t + std::chrono::seconds(5))).attempts.empty()) << "backing off";

  PassRequest request = at(t + std::chrono::seconds(10));
  request.retry_now = true;
  auto s = engine.pass(request);
  ASSERT_EQ(s.attempts.size(), 1u) << "run --now lifts the wait";
  EXPECT_TRUE(s.failed);
  EXPECT_EQ(s.certificates[0].consecutive_failures, 2u) << "the CA is still unreachable: the count goes on";
  ASSERT_TRUE(s.next_wake);
  EXPECT_GT(*s.next_wake, t + std::chrono::seconds(10) + std::chrono::seconds(90)) << "the second step: about 2 min";
}

TEST_F(EnginePass, AnInvalidPolicyKeepsThePreviousOneInForce) {
  Engine engine({policy.string(), 4}, store);
  (void)engine.pass(at(now()));
  std::ofstream(policy) << "{\"ca\": ";
  auto s = engine.pass(at(now()));
  ASSERT_TRUE(s.policy_error);
  EXPECT_THAT(*s.policy_error, HasSubstr("policy.json:1:"));
  ASSERT_EQ(s.certificates.size(), 1u) << "the previous policy's certificate is still worked on";
  EXPECT_THAT(s.status_line, HasSubstr("previous policy in force"));
}

TEST_F(EnginePass, WithNoValidPolicyEverThePassSaysSoAndDoesNothing) {
  std::ofstream(policy) << "not json";
  Engine engine({policy.string(), 4}, store);
  auto s = engine.pass(at(now()));
  ASSERT_TRUE(s.policy_error);
  EXPECT_TRUE(s.certificates.empty());
  EXPECT_FALSE(s.next_wake);
}

TEST_F(EnginePass, AStoredVersionWithTheRightNamesIsBoundWithoutAnyOrder) {
  auto cert = testing::make_cert({"se01.contoso.net", "lyncdiscoverinternal.contoso.com", "lyncdiscover.contoso.com"});
  NewVersion v{cert.key_pem, cert.leaf_pem, cert.chain_pem, {}};
  v.meta.certificate_id = "front-end";
  v.meta.key_type = "ec-p256";
  auto id = store->add_version(v);
  ASSERT_TRUE(id) << id.error().message;
  Engine engine({policy.string(), 4}, store);
  auto s = engine.pass(at(now()));
  EXPECT_FALSE(s.failed) << s.status_line;
  EXPECT_FALSE(s.incomplete) << s.status_line;
  EXPECT_TRUE(s.attempts.empty()) << "a rebind is not an issuance";
  ASSERT_EQ(s.certificates.size(), 1u);
  for (const auto& p : s.certificates[0].purposes) EXPECT_EQ(p.thumbprint.size(), 40u) << p.purpose;
}

}  // namespace
}  // namespace certagent::agent
