// Engine::pass without a CA: the summary it gives the daemon, the previous
// policy kept in force, failures backing off, and stored versions rebound
// without any order. (Ordering itself is tested against pebble.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include "agent/engine/pass.hpp"
#include "agent/store/fault.hpp"
#include "agent/store/schedule.hpp"
#include "agent/cli/status_ari.hpp"
#include "agent/store/store.hpp"
#include "agent_fixtures.hpp"

namespace certagent::agent {
namespace {

using ::testing::HasSubstr;

struct EnginePass : ::testing::Test, testing::EngineFixture {
  std::chrono::sys_seconds now() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }
  // A stored version with every name the policy gives front-end: the pass binds it without an order.
  Result<std::string> store_front_end_version() {
    auto cert = testing::make_cert({"se01.contoso.net", "lyncdiscoverinternal.contoso.com", "lyncdiscover.contoso.com"});
    NewVersion v{cert.key_pem, cert.leaf_pem, cert.chain_pem, {}};
    v.meta.certificate_id = "front-end";
    v.meta.key_type = "ec-p256";
    return store->add_version(v);
  }
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

TEST_F(EnginePass, AStoreThatCannotBeReadFailsThePassWithItsKind) {
  Engine engine({policy.string(), 4}, store);
  std::filesystem::remove_all(store->dir() / "certs");
  std::ofstream(store->dir() / "certs") << "not a directory";
  auto s = engine.pass(at(now()));
  EXPECT_TRUE(s.failed);
  ASSERT_TRUE(s.error_kind) << s.status_line;
  EXPECT_EQ(*s.error_kind, ErrorKind::Storage);
  EXPECT_THAT(s.status_line, HasSubstr("the pass FAILED (storage)"));
}

TEST_F(EnginePass, AStoredVersionWithTheRightNamesIsBoundWithoutAnyOrder) {
  auto id = store_front_end_version();
  ASSERT_TRUE(id) << id.error().message;
  Engine engine({policy.string(), 4}, store);
  auto s = engine.pass(at(now()));
  EXPECT_FALSE(s.failed) << s.status_line;
  EXPECT_FALSE(s.incomplete) << s.status_line;
  EXPECT_TRUE(s.attempts.empty()) << "a rebind is not an issuance";
  ASSERT_EQ(s.certificates.size(), 1u);
  for (const auto& p : s.certificates[0].purposes) EXPECT_EQ(p.thumbprint.size(), 40u) << p.purpose;
}

// Issue 26: a pass that decides what the last one decided writes nothing in the state directory
// (the schedule keeps the file, its inode and its decided_at); a missing record is written.
TEST_F(EnginePass, APassWithNothingNewToDecideWritesNoScheduleAndAMissingRecordIsWritten) {
  ASSERT_TRUE(store_front_end_version());
  Engine engine({policy.string(), 4}, store);
  const auto t = now();
  ASSERT_FALSE(engine.pass(at(t)).failed);
  const auto file = store->dir() / "schedule" / "front-end.json";
  struct stat before {};
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  const auto first = read_schedule(store->dir(), "front-end");
  ASSERT_TRUE(first && *first);
  ASSERT_FALSE(engine.pass(at(t + std::chrono::seconds(90))).failed);
  struct stat after {};
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the schedule was replaced although nothing changed";
  const auto second = read_schedule(store->dir(), "front-end");
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->decided_at, (*first)->decided_at);
  // A record that is missing (deleted, or damaged and refused) is written again.
  std::filesystem::remove(store->dir() / "schedule" / "front-end.json");
  ASSERT_FALSE(engine.pass(at(t + std::chrono::seconds(180))).failed);
  EXPECT_TRUE(std::filesystem::exists(file)) << "a missing record is written";
}

// The schedule record written right after an attempt — what a restart and `certagent status`
// see when the pass is killed before its end-of-pass write — keeps the renewal decision
// behind it: the basis (which status shows) and the random draw.
TEST_F(EnginePass, AKilledPassLeavesTheAttemptsScheduleWithTheRenewalBasisAndDraw) {
  ASSERT_TRUE(store_front_end_version());
  const auto t = now();
  {
    Engine engine({policy.string(), 4}, store);
    ASSERT_FALSE(engine.pass(at(t)).incomplete) << "the stored version is bound";
  }
  auto kept = read_schedule(store->dir(), "front-end");
  ASSERT_TRUE(kept && *kept);
  ASSERT_EQ((*kept)->basis, policy::RenewalBasis::Lifetime);
  ASSERT_TRUE((*kept)->selected);

  // 70 days on, the 90-day certificate is due (1/3 of its lifetime left at day 60); the
  // renewal fails (no CA there), and the process is killed once the attempt is recorded.
  const auto later = t + std::chrono::days(70);
  int status = testing::run_in_child([&] {
    set_fault_injector([](std::string_view p) {
      if (p == "engine.pass.after_attempts") ::raise(SIGKILL);
      return false;
    });
    Engine engine({policy.string(), 4}, store);
    (void)engine.pass(at(later));
    ::_exit(0);
  });
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the kill point was never reached";

  auto record = read_schedule(store->dir(), "front-end");
  ASSERT_TRUE(record && *record);
  EXPECT_THAT((*record)->decision, ::testing::StartsWith("renew:")) << "the attempt's record, not the first pass's";
  EXPECT_EQ((*record)->backoff.consecutive_failures, 1u);
  EXPECT_EQ((*record)->decided_at, later);
  ASSERT_TRUE((*record)->renew_at);
  EXPECT_EQ((*record)->basis, policy::RenewalBasis::Lifetime);
  EXPECT_EQ((*record)->selected, (*kept)->selected) << "the draw is kept, not re-rolled by the next plan";
  EXPECT_EQ((*record)->ari_fetched_at, std::nullopt) << "no ARI window was used";
  EXPECT_EQ(recorded_renewal_basis(*record), RenewalBasisSeen::Lifetime) << "status shows it as recorded";

  // A pass that is not killed ends with the same basis and draw.
  PassRequest again = at(later + std::chrono::seconds(1));
  again.retry_now = true;
  {
    Engine engine({policy.string(), 4}, store);
    (void)engine.pass(again);
  }
  auto ended = read_schedule(store->dir(), "front-end");
  ASSERT_TRUE(ended && *ended);
  EXPECT_EQ((*ended)->basis, (*record)->basis);
  EXPECT_EQ((*ended)->selected, (*record)->selected);
}

}  // namespace
}  // namespace certagent::agent
