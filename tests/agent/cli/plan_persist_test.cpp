// `plan` with dns-persist-01, offline: the policy names the issuer domain, and the state
// directory's account (or its absence) decides the accounturi. The check against a real DNS
// server is tests/integration/ca_dns_persist_test.cpp.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>

#include "agent/cli/plan_persist.hpp"
#include "agent/engine/options.hpp"
#include "agent/store/store.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;

policy::Action action_with(std::vector<std::string> names) {
  policy::Action a;
  a.certificate.id = "web";
  for (auto& n : names) a.certificate.names.push_back({std::move(n), {"https"}});
  return a;
}

policy::Policy persist_policy() {
  policy::Policy p;
  p.ca.directory_url = "https://ca.invalid/dir";  // never read: the issuer domain is given
  policy::Challenge c;
  c.type = policy::Challenge::Type::DnsPersist01;
  c.issuer_domain = "ca.example";
  p.challenges = {c};
  return p;
}

class PlanPersist : public ::testing::Test {
 protected:
  fs::path dir_ = fs::path(::testing::TempDir()) / ("plan-persist-" + std::to_string(::getpid()));
  void SetUp() override { fs::remove_all(dir_); }
  void TearDown() override { fs::remove_all(dir_); }
};

TEST_F(PlanPersist, WithoutAnAccountTheRecordsAreListedAndTheNoteSaysWhatToDo) {
  auto plan = persist_plan(persist_policy(), {action_with({"a.example"})}, (dir_ / "none").string(), false);
  EXPECT_EQ(plan.issuer_domain, "ca.example");
  EXPECT_EQ(plan.account_uri, "");
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("no account with this CA yet"), std::string::npos) << plan.notes[0];
  ASSERT_EQ(plan.rows.size(), 1u);
  auto j = persist_json(plan);
  EXPECT_EQ(j.at("records").at(0).at("record"), "_validation-persist.a.example");
  EXPECT_EQ(j.at("records").at(0).at("value"), "");  // unknown until the account exists
  EXPECT_NE(persist_table(plan).find("(unknown)"), std::string::npos);
}

TEST_F(PlanPersist, TheStoredAccountNamesEachRecordAndAWildcardsRecordServesItsBaseName) {
  {
    auto store = Store::open(dir_, OpenOptions{true, {}});
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE(store->save_account(Account{"https://ca.invalid/dir", "https://ca.example/acct/9", {}, "k", false}));
  }
  auto plan = persist_plan(persist_policy(), {action_with({"a.example", "*.a.example", "b.example"}), action_with({"b.example"})},
                           dir_.string(), false);
  EXPECT_TRUE(plan.notes.empty());
  auto j = persist_json(plan);
  const auto& records = j.at("records").as_array();
  ASSERT_EQ(records.size(), 2u) << boost::json::serialize(j);  // a.example folded into *.a.example; b.example once
  EXPECT_EQ(records.at(0).at("dns_name"), "*.a.example");
  EXPECT_EQ(records.at(0).at("record"), "_validation-persist.a.example");
  EXPECT_EQ(records.at(0).at("value"), "ca.example; accounturi=https://ca.example/acct/9; policy=wildcard");
  EXPECT_EQ(records.at(1).at("value"), "ca.example; accounturi=https://ca.example/acct/9");
  EXPECT_FALSE(records.at(0).as_object().contains("check"));  // no --check-dns
}

TEST_F(PlanPersist, TheCheckVerdictsDecideTheExitCode) {
  PersistPlan plan;
  plan.checked = true;
  plan.rows = {PersistRow{"a.example", {}, protocol::PersistVerdict::Present, ""}};
  EXPECT_EQ(persist_exit_code(plan), kExitOk);
  plan.rows.push_back(PersistRow{"b.example", {}, protocol::PersistVerdict::Wrong, "names another account"});
  EXPECT_EQ(persist_exit_code(plan), kExitIncomplete);
  plan.rows.push_back(PersistRow{"c.example", {}, std::nullopt, "the resolver answered SERVFAIL"});
  EXPECT_EQ(persist_exit_code(plan), kExitFailed);
  auto j = persist_json(plan);
  EXPECT_EQ(j.at("records").at(1).at("check"), "wrong");
  EXPECT_EQ(j.at("records").at(2).at("check"), "unknown");
  EXPECT_EQ(j.at("records").at(2).at("detail"), "the resolver answered SERVFAIL");
}

}  // namespace
}  // namespace certagent::agent
