// The engine when things change or go wrong: a SIP domain added, a failing
// hook, a crash between storing and binding, two agents on one state directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <optional>

#include "agent/store/store.hpp"
#include "daemon_support.hpp"
#include "engine_support.hpp"

namespace certagent::integration {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string describe(const ProcessOutcome& r) { return "stdout:\n" + r.out + "\nstderr:\n" + r.err; }

std::map<std::string, std::string> thumbprints(const EngineSandbox& box) {
  std::map<std::string, std::string> out;
  for (const auto& [p, c] : box.certs()) out[p] = thumbprint_of(c);
  return out;
}

TEST(EngineChanges, AddedSipDomainReissuesExactlyTheCertificatesWhoseNamesChanged) {
  EngineSandbox box;
  PoolPolicy policy = pool("separate");
  for (const char* p : {"Default", "WebServicesInternal", "WebServicesExternal"}) policy.hooks[p] = {box.make_hook("hook")};
  box.write_policy(policy);
  auto first = box.certagent({"run", "--once"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  auto before = thumbprints(box);
  ASSERT_EQ(box.hook_log().size(), 3u);

  policy.sip_domains.push_back("northwind.com");
  box.write_policy(policy);
  auto second = box.certagent({"run", "--once"});
  ASSERT_EQ(second.exit_code, 0) << describe(second);
  auto after = thumbprints(box);
  EXPECT_EQ(after["Default"], before["Default"]) << "Default carries no Autodiscover name";
  EXPECT_NE(after["WebServicesInternal"], before["WebServicesInternal"]);
  EXPECT_NE(after["WebServicesExternal"], before["WebServicesExternal"]);
  auto certs = box.certs();
  EXPECT_THAT(names_of(certs.at("WebServicesExternal")), Contains("lyncdiscover.northwind.com"));
  EXPECT_THAT(names_of(certs.at("WebServicesInternal")), Contains("lyncdiscoverinternal.northwind.com"));
  // The hooks of exactly the rebound purposes ran, seeing the old and the new thumbprint.
  auto log = box.hook_log();
  ASSERT_EQ(log.size(), 5u);
  std::vector<std::string> rerun(log.begin() + 3, log.end());
  std::sort(rerun.begin(), rerun.end());
  EXPECT_THAT(rerun, ElementsAre("WebServicesExternal bind " + before["WebServicesExternal"] + " " +
                                     after["WebServicesExternal"],
                                 "WebServicesInternal bind " + before["WebServicesInternal"] + " " +
                                     after["WebServicesInternal"]));
}

TEST(EngineChanges, AFailingHookRollsBackAndTheOldCertificateStaysBound) {
  EngineSandbox box;
  PoolPolicy policy = pool("shared");
  box.write_policy(policy);
  auto first = box.certagent({"run", "--once"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  const std::string old_thumbprint = thumbprints(box)["Default"];

  policy.sip_domains.push_back("northwind.com");
  policy.hooks["Default"] = {box.make_hook("failing-hook", 7)};
  box.write_policy(policy);
  auto second = box.certagent({"run", "--once"});
  EXPECT_EQ(second.exit_code, 1) << describe(second);
  EXPECT_THAT(second.err, HasSubstr("rolled back"));
  for (const auto& [purpose, thumbprint] : thumbprints(box))
    EXPECT_EQ(thumbprint, old_thumbprint) << purpose << ": the purposes of the shared certificate go back together";
  auto log = box.hook_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0], HasSubstr("Default bind " + old_thumbprint + " "));
  EXPECT_THAT(log[1], HasSubstr("Default rollback "));
  EXPECT_THAT(log[1], testing::EndsWith(" " + old_thumbprint));
}

TEST(EngineChanges, KilledBetweenStoringAndBindingTheNextRunBindsWithoutANewOrder) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  auto killed = box.certagent({"run", "--once"}, {"CERTAGENT_FAULT_KILL=store.bind.before_rename"});
  ASSERT_EQ(killed.signal, SIGKILL) << describe(killed);
  EXPECT_TRUE(box.certs().at("Default").at("thumbprint").is_null()) << "nothing bound yet";

  const auto orders = new_order_count(box.pebble());
  auto before = box.pebble().request_count();
  auto next = box.certagent({"run", "--once"});
  ASSERT_EQ(next.exit_code, 0) << describe(next);
  EXPECT_EQ(new_order_count(box.pebble()), orders) << "no new order";
  EXPECT_EQ(box.pebble().request_count().value(), before.value()) << "no ACME request: the stored version is bound";
  auto certs = box.certs();
  EXPECT_EQ(thumbprint_of(certs.at("Default")), thumbprint_of(certs.at("WebServicesExternal")));
  EXPECT_EQ(thumbprint_of(certs.at("Default")).size(), 40u);
}

TEST(EngineChanges, KilledBeforeFinalizeTheNextRunResumesTheJournaledOrder) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  const auto orders_before = new_order_count(box.pebble());
  auto killed = box.certagent({"run", "--once"}, {"CERTAGENT_FAULT_KILL=engine.order.before_finalize"});
  ASSERT_EQ(killed.signal, SIGKILL) << describe(killed);
  EXPECT_EQ(new_order_count(box.pebble()), orders_before + 1);
  const auto journal = box.state() / "orders" / "front-end.json";
  ASSERT_TRUE(std::filesystem::exists(journal));
  EXPECT_EQ(std::filesystem::status(journal).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  auto next = box.certagent({"run", "--once"});
  ASSERT_EQ(next.exit_code, 0) << describe(next);
  EXPECT_EQ(new_order_count(box.pebble()), orders_before + 1) << "the journaled order was finished, no new one";
  EXPECT_THAT(next.err, HasSubstr("resuming order"));
  EXPECT_FALSE(std::filesystem::exists(journal)) << "the journal goes once the certificate is stored";
  EXPECT_EQ(thumbprint_of(box.certs().at("Default")).size(), 40u);
}

// A writer that holds the state (here: this test) makes `run --once` wait for it, saying whom
// it waits for, and run as soon as it lets go.
TEST(EngineChanges, RunOnceWaitsForTheWriterInProgressAndSaysWhoHoldsIt) {
  using namespace std::chrono_literals;
  EngineSandbox box;
  box.write_policy({});
  std::optional<agent::Store> holder;
  {
    auto held = agent::Store::open(box.state(), agent::OpenOptions{true, {}});
    ASSERT_TRUE(held) << held.error().message;
    holder.emplace(std::move(*held));
  }
  AgentProcess once(box, box.dir() / "once.log", {"--once"});
  ASSERT_TRUE(once.wait_for_log("waiting for the pass in progress (pid " + std::to_string(::getpid()) + ")", 20s))
      << once.log();
  EXPECT_TRUE(once.running()) << once.log();
  holder.reset();
  const auto code = once.wait_exit(60s);
  ASSERT_TRUE(code.has_value()) << once.log();
  EXPECT_EQ(*code, 0) << once.log();
}

}  // namespace
}  // namespace certagent::integration
