// One certificate, several purposes, one step: the rollback after a failed
// hook or output is all or nothing — bindings, output files and a rerun of
// the hooks for the restore, for every purpose of the step.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/engine/rebind.hpp"
#include "agent_fixtures.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Appends "PURPOSES ACTION NEW_THUMBPRINT" to the log; fails a bind when one of the purposes it
// tells is named in the fail file.
const char* kHook = R"SH(#!/bin/sh
echo "$CERTAGENT_PURPOSES $CERTAGENT_ACTION $CERTAGENT_NEW_THUMBPRINT" >> "$1"
if [ "$CERTAGENT_ACTION" = bind ] && [ -f "$2" ]; then
  for p in $CERTAGENT_PURPOSES; do grep -qx "$p" "$2" && exit 4; done
fi
exit 0
)SH";

const std::vector<std::string> kThree = {"Default", "WebServicesInternal", "WebServicesExternal"};

struct SharedFixture : testing::StoreFixture {
  fs::path log = t.path() / "hooks.log";
  fs::path fail_list = t.path() / "fail";
  fs::path script = t.path() / "hook.sh";
  fs::path out = t.path() / "out";
  std::string a = add({"a.example"});
  std::string b = add({"b.example"});
  std::map<std::string, PurposeConsumers> consumers;

  // `distinct`: each purpose names the hook with its own argv (three hooks, not one).
  explicit SharedFixture(bool distinct = false) {
    EXPECT_TRUE(fsutil::write_file_atomic(script, kHook, 0700));
    fs::create_directory(out);
    for (const auto& p : kThree) {
      auto& c = consumers[p];
      c.hooks.push_back(Hook{{script.string(), log.string(), fail_list.string()}, 10s});
      if (distinct) c.hooks.back().argv.push_back(p);
      c.outputs.push_back({out / (p + ".key"), OutputFormat::Key, "", "", 0600, std::nullopt, ""});
      c.outputs.push_back({out / (p + ".pem"), OutputFormat::Fullchain, "", "", 0644, std::nullopt, ""});
    }
  }
  std::string bound(const std::string& p) {
    auto b = s.binding(p);
    return b && *b ? (*b)->version_id : "";
  }
  std::string key_of(const std::string& id) { return *fsutil::read_file(s.dir() / "certs" / id / "privkey.pem"); }
  std::string output(const std::string& name) { return fsutil::read_file(out / name).value_or("<missing>"); }
  std::vector<std::string> calls() {
    std::vector<std::string> lines;
    std::string text = fsutil::read_file(log).value_or("");
    for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
      lines.push_back(text.substr(at, nl - at));
    return lines;
  }
  void clear_calls() { fs::remove(log); }
};

TEST(SharedRebind, AllPurposesSwitchTogetherWhenEveryHookSucceeds) {
  SharedFixture f;
  auto out = rebind(f.s, kThree, f.a, f.consumers);
  ASSERT_TRUE(out) << out.error().message;
  for (const auto& o : *out) EXPECT_TRUE(o.succeeded()) << o.purpose;
  for (const auto& p : kThree) {
    EXPECT_EQ(f.bound(p), f.a);
    EXPECT_EQ(f.output(p + ".key"), f.key_of(f.a));
  }
  EXPECT_EQ(f.calls(), (std::vector<std::string>{"Default WebServicesInternal WebServicesExternal bind " + f.thumb(f.a)}))
      << "the hook all three purposes name runs once, told every purpose";
}

TEST(SharedRebind, AHookNamedOnEveryPurposeRunsOnceForARollbackToo) {
  SharedFixture f;
  ASSERT_TRUE(rebind(f.s, kThree, f.a, f.consumers));
  f.clear_calls();
  ASSERT_TRUE(fsutil::write_file_atomic(f.fail_list, "WebServicesExternal\n", 0600));
  auto out = rebind(f.s, kThree, f.b, f.consumers);
  ASSERT_TRUE(out) << out.error().message;
  for (const auto& o : *out) EXPECT_TRUE(o.rolled_back) << o.purpose;
  const std::string all = "Default WebServicesInternal WebServicesExternal";
  EXPECT_EQ(f.calls(), (std::vector<std::string>{all + " bind " + f.thumb(f.b), all + " rollback " + f.thumb(f.a)}));
  EXPECT_NE((*out)[0].failure->message.find("(bind of Default, WebServicesInternal, WebServicesExternal)"),
            std::string::npos)
      << (*out)[0].failure->message;
}

TEST(SharedRebind, DistinctHooksRunOncePerPurpose) {
  SharedFixture f(/*distinct=*/true);
  ASSERT_TRUE(rebind(f.s, kThree, f.a, f.consumers));
  const std::string ta = f.thumb(f.a);
  EXPECT_EQ(f.calls(), (std::vector<std::string>{"Default bind " + ta, "WebServicesInternal bind " + ta,
                                                  "WebServicesExternal bind " + ta}));
}

TEST(SharedRebind, OneFailingHookRollsBackEveryPurposeAndRerunsTheirHooks) {
  SharedFixture f(/*distinct=*/true);
  ASSERT_TRUE(rebind(f.s, kThree, f.a, f.consumers));
  f.clear_calls();
  ASSERT_TRUE(fsutil::write_file_atomic(f.fail_list, "WebServicesInternal\n", 0600));
  auto out = rebind(f.s, kThree, f.b, f.consumers);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 3u);
  for (const auto& o : *out) {
    EXPECT_FALSE(o.succeeded()) << o.purpose;
    EXPECT_TRUE(o.rolled_back) << o.purpose;
    EXPECT_FALSE(o.rollback_failure) << o.purpose << ": " << o.rollback_failure->message;
    EXPECT_EQ(f.bound(o.purpose), f.a) << o.purpose;
    EXPECT_EQ(f.output(o.purpose + ".key"), f.key_of(f.a)) << o.purpose << ": the output holds the old key again";
  }
  EXPECT_NE((*out)[1].failure->message.find("exited with status 4"), std::string::npos) << (*out)[1].failure->message;
  EXPECT_NE((*out)[0].failure->message.find("bound with WebServicesInternal in one step"), std::string::npos)
      << (*out)[0].failure->message;
  const std::string ta = f.thumb(f.a), tb = f.thumb(f.b);
  // Default and WebServicesInternal were told of the bind (the second failed;
  // WebServicesExternal was never reached); then every purpose hears the restore.
  EXPECT_EQ(f.calls(), (std::vector<std::string>{"Default bind " + tb, "WebServicesInternal bind " + tb,
                                                  "Default rollback " + ta, "WebServicesInternal rollback " + ta,
                                                  "WebServicesExternal rollback " + ta}));
  EXPECT_TRUE(f.s.verify_version(f.b)) << "the new version stays stored for the next attempt";
}

TEST(SharedRebind, AFailedOutputCommitRollsBackEveryPurposeBeforeAnyHookRuns) {
  SharedFixture f;
  ASSERT_TRUE(rebind(f.s, kThree, f.a, f.consumers));
  f.clear_calls();
  int renames = 0;  // two files per purpose: fail in the third purpose's first
  set_fault_injector([&](std::string_view p) { return p == "outputs.commit.before_rename" && ++renames == 5; });
  auto out = rebind(f.s, kThree, f.b, f.consumers);
  set_fault_injector({});
  ASSERT_TRUE(out);
  for (const auto& o : *out) {
    EXPECT_TRUE(o.rolled_back) << o.purpose;
    EXPECT_EQ(f.bound(o.purpose), f.a);
    EXPECT_EQ(f.output(o.purpose + ".key"), f.key_of(f.a)) << o.purpose;
  }
  for (const auto& line : f.calls()) EXPECT_NE(line.find(" rollback "), std::string::npos) << line;
}

TEST(SharedRebind, ABadOutputSwitchesNothing) {
  SharedFixture f;
  ASSERT_TRUE(rebind(f.s, kThree, f.a, f.consumers));
  f.clear_calls();
  f.consumers["WebServicesExternal"].outputs.push_back(
      {f.t.path() / "missing-dir" / "x.pem", OutputFormat::Cert, "", "", 0644, std::nullopt, ""});
  auto out = rebind(f.s, kThree, f.b, f.consumers);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("WebServicesExternal: nothing was switched"), std::string::npos)
      << out.error().message;
  EXPECT_NE(out.error().message.find("missing-dir does not exist"), std::string::npos) << out.error().message;
  for (const auto& p : kThree) {
    EXPECT_EQ(f.bound(p), f.a);
    EXPECT_EQ(f.output(p + ".key"), f.key_of(f.a));
  }
  EXPECT_TRUE(f.calls().empty()) << "no hook ran";
}

TEST(SharedRebind, APurposeThatWasUnboundKeepsTheNewVersionWhileTheOthersGoBack) {
  SharedFixture f;
  const std::vector<std::string> two = {"Default", "WebServicesInternal"};
  ASSERT_TRUE(rebind(f.s, two, f.a, f.consumers));
  ASSERT_TRUE(fsutil::write_file_atomic(f.fail_list, "WebServicesExternal\n", 0600));
  auto out = rebind(f.s, kThree, f.b, f.consumers);
  ASSERT_TRUE(out);
  EXPECT_EQ(f.bound("Default"), f.a);
  EXPECT_EQ(f.bound("WebServicesInternal"), f.a);
  EXPECT_EQ(f.bound("WebServicesExternal"), f.b) << "nothing to go back to";
  EXPECT_TRUE((*out)[2].failure) << "its own hook failed: reported";
  EXPECT_FALSE((*out)[2].rolled_back);
  EXPECT_TRUE((*out)[0].rolled_back);
}

TEST(SharedRebind, OnlyPurposesWithConsumersWaitForLiveToBeSyncedWhenTheCallerSyncsTheRest) {
  SharedFixture f;
  f.consumers.erase("WebServicesInternal");
  f.consumers.erase("WebServicesExternal");
  std::vector<std::string> seen;
  set_fault_injector([&](std::string_view p) {
    if (p == "store.bind.live_synced") seen.emplace_back(p);
    return false;
  });
  auto now = rebind(f.s, kThree, f.a, f.consumers);
  const auto synced_now = seen.size();
  seen.clear();
  auto caller = rebind(f.s, kThree, f.b, f.consumers, Store::LiveSync::Caller);
  set_fault_injector({});
  ASSERT_TRUE(now);
  ASSERT_TRUE(caller);
  EXPECT_EQ(synced_now, 3u) << "by default every switch is durable before rebind returns";
  EXPECT_EQ(seen.size(), 1u) << "Caller: only Default, whose hook is told, syncs live/ before it";
  for (const auto& p : kThree) EXPECT_EQ(f.bound(p), f.b) << p;
  EXPECT_EQ(f.calls().size(), 2u) << "Default's hook ran for each switch";
}

}  // namespace
}  // namespace certagent::agent
