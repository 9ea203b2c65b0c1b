#include "agent/engine/hooks.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/notify_journal.hpp"
#include "agent/engine/rebind.hpp"
#include "agent_fixtures.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A hook that appends its argv (one per line) and its CERTAGENT_*/PATH
// environment to the file named by its first argument, then exits with the
// status in the file named by its second argument when that file exists.
const char* kRecorder = R"SH(#!/bin/sh
out="$1"; status_file="$2"; shift 2
{
  echo "--- call"
  for a in "$@"; do printf 'arg=%s\n' "$a"; done
  env | grep -E '^(CERTAGENT_|PATH=|HOME=|SECRET_)' | sort
} >> "$out"
echo "hook says hello"
echo "hook complains" >&2
if [ -f "$status_file" ]; then
  if [ "$(cat "$status_file")" = "fail-bind" ] && [ "$CERTAGENT_ACTION" = bind ]; then exit 3; fi
  if [ "$(cat "$status_file")" = "sleep" ] && [ "$CERTAGENT_ACTION" = bind ]; then exec sleep 30; fi
fi
exit 0
)SH";

struct HookFixture : testing::StoreFixture {
  fs::path state = s.dir();
  fs::path log = t.path() / "calls.log";
  fs::path status = t.path() / "status";
  fs::path script = t.path() / "hook.sh";
  std::string a = add({"a.example", "lyncdiscover.a.example"});
  std::string b = add({"b.example"});

  HookFixture() {
    EXPECT_TRUE(fsutil::write_file_atomic(script, kRecorder, 0700));
  }
  std::map<std::string, PurposeConsumers> consumers(std::vector<std::string> extra_args = {},
                                                     std::chrono::milliseconds timeout = 10s) {
    std::vector<std::string> argv = {script.string(), log.string(), status.string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    return {{"Default", PurposeConsumers{{Hook{argv, timeout}}, {}, {}}}};
  }
  std::string calls() { return fsutil::read_file(log).value_or(""); }
  std::string bound() { return (*s.binding("Default"))->version_id; }
};

const std::string kDefault[] = {"Default"};

TEST(Hooks, EnvironmentNamesEverythingAHookNeeds) {
  HookEvent e{"WebServicesExternal", HookAction::Rollback, "v1", "OLD", "NEW", "/s/live/WebServicesExternal",
              {"a.example", "b.example"}, {}};
  auto env = hook_environment(e);
  auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
  EXPECT_TRUE(has("CERTAGENT_PURPOSE=WebServicesExternal"));
  EXPECT_TRUE(has("CERTAGENT_PURPOSES=WebServicesExternal")) << "told alone";
  EXPECT_TRUE(has("CERTAGENT_ACTION=rollback"));
  EXPECT_TRUE(has("CERTAGENT_OLD_THUMBPRINT=OLD"));
  EXPECT_TRUE(has("CERTAGENT_NEW_THUMBPRINT=NEW"));
  EXPECT_TRUE(has("CERTAGENT_CERT_PATH=/s/live/WebServicesExternal/cert.pem"));
  EXPECT_TRUE(has("CERTAGENT_KEY_PATH=/s/live/WebServicesExternal/privkey.pem"));
  EXPECT_TRUE(has("CERTAGENT_FULLCHAIN_PATH=/s/live/WebServicesExternal/fullchain.pem"));
  EXPECT_TRUE(has("CERTAGENT_NAMES=a.example b.example"));
}

TEST(Hooks, RunWithLiteralArgvAndOnlyTheirEnvironment) {
  HookFixture f;
  ::setenv("SECRET_OF_THE_AGENT", "x", 1);
  auto out = rebind(f.s, kDefault, f.a, f.consumers({"$(touch pwned)", "; rm -rf /", "two words"}));
  ::unsetenv("SECRET_OF_THE_AGENT");
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 1u);
  EXPECT_TRUE((*out)[0].succeeded());
  auto calls = f.calls();
  EXPECT_NE(calls.find("arg=$(touch pwned)\narg=; rm -rf /\narg=two words\n"), std::string::npos) << calls;
  EXPECT_FALSE(fs::exists("pwned"));
  EXPECT_NE(calls.find("CERTAGENT_PURPOSE=Default\n"), std::string::npos) << calls;
  EXPECT_NE(calls.find("CERTAGENT_ACTION=bind\n"), std::string::npos) << calls;
  EXPECT_NE(calls.find("CERTAGENT_OLD_THUMBPRINT=\n"), std::string::npos) << calls;
  EXPECT_NE(calls.find("CERTAGENT_NEW_THUMBPRINT=" + f.thumb(f.a) + "\n"), std::string::npos) << calls;
  EXPECT_NE(calls.find("CERTAGENT_NAMES=a.example lyncdiscover.a.example\n"), std::string::npos) << calls;
  EXPECT_NE(calls.find("CERTAGENT_KEY_PATH=" + (f.state / "live/Default/privkey.pem").string()), std::string::npos);
  EXPECT_NE(calls.find("PATH="), std::string::npos) << calls;
  EXPECT_EQ(calls.find("SECRET_"), std::string::npos) << calls;
  EXPECT_EQ(calls.find("HOME="), std::string::npos) << calls;
}

TEST(Hooks, SecondBindSeesOldAndNewThumbprints) {
  HookFixture f;
  ASSERT_TRUE(rebind(f.s, kDefault, f.a, f.consumers()));
  auto out = rebind(f.s, kDefault, f.b, f.consumers());
  ASSERT_TRUE(out && (*out)[0].succeeded());
  EXPECT_EQ((*out)[0].previous_version, f.a);
  auto calls = f.calls();
  auto second = calls.substr(calls.rfind("--- call"));
  EXPECT_NE(second.find("CERTAGENT_OLD_THUMBPRINT=" + f.thumb(f.a)), std::string::npos) << second;
  EXPECT_NE(second.find("CERTAGENT_NEW_THUMBPRINT=" + f.thumb(f.b)), std::string::npos) << second;
  EXPECT_EQ(f.bound(), f.b);
}

// A crash between switching the binding and running the hooks (rebind.after_bind
// fails here as a SIGKILL would stop it): the record of the hooks owed stays,
// and the next pass runs them for the version bound, with the old thumbprint.
TEST(Hooks, HooksOwedByACrashedRebindAreRunByTheNextPass) {
  HookFixture f;
  ASSERT_TRUE(rebind(f.s, kDefault, f.a, f.consumers()));
  set_fault_injector([](std::string_view p) { return p == "rebind.after_bind"; });
  auto crashed = rebind(f.s, kDefault, f.b, f.consumers());
  set_fault_injector({});
  ASSERT_FALSE(crashed);
  EXPECT_EQ(f.bound(), f.b) << "switched, but the hook never ran";
  EXPECT_EQ(f.calls().find("CERTAGENT_NEW_THUMBPRINT=" + f.thumb(f.b)), std::string::npos);
  auto owed = pending_notifications(f.state);
  ASSERT_TRUE(owed) << owed.error().message;
  ASSERT_EQ(owed->size(), 1u);
  EXPECT_EQ((*owed)[0].version_id, f.b);
  EXPECT_EQ((*owed)[0].old_thumbprint, f.thumb(f.a));

  replay_owed_notifications(f.s, f.consumers());
  auto calls = f.calls();
  auto last = calls.substr(calls.rfind("--- call"));
  EXPECT_NE(last.find("CERTAGENT_ACTION=bind"), std::string::npos) << last;
  EXPECT_NE(last.find("CERTAGENT_OLD_THUMBPRINT=" + f.thumb(f.a)), std::string::npos) << last;
  EXPECT_NE(last.find("CERTAGENT_NEW_THUMBPRINT=" + f.thumb(f.b)), std::string::npos) << last;
  EXPECT_TRUE(pending_notifications(f.state)->empty()) << "told once, the record goes";
  replay_owed_notifications(f.s, f.consumers());
  EXPECT_EQ(f.calls(), calls) << "nothing owed any more";
}

// A purpose with neither hooks nor outputs is owed nothing: its switch writes no
// record (no notify/ write, no fsyncs), and one with hooks still does.
TEST(Hooks, APurposeWithoutConsumersIsOwedNoRecord) {
  HookFixture f;
  set_fault_injector([](std::string_view p) { return p == "rebind.after_bind"; });
  ASSERT_FALSE(rebind(f.s, kDefault, f.a, {}));
  set_fault_injector({});
  EXPECT_EQ(f.bound(), f.a);
  std::error_code ec;
  EXPECT_FALSE(fs::exists(f.state / "notify" / "Default", ec));
  EXPECT_TRUE(pending_notifications(f.state)->empty());
  set_fault_injector([](std::string_view p) { return p == "rebind.after_bind"; });
  ASSERT_FALSE(rebind(f.s, kDefault, f.b, f.consumers()));
  set_fault_injector({});
  EXPECT_EQ(pending_notifications(f.state)->size(), 1u);
}

TEST(Hooks, AnOwedRecordWhoseSwitchNeverHappenedIsDroppedWithoutRunningHooks) {
  HookFixture f;
  ASSERT_TRUE(rebind(f.s, kDefault, f.a, f.consumers()));
  set_fault_injector([](std::string_view p) { return p == "store.bind.before_rename"; });
  ASSERT_FALSE(rebind(f.s, kDefault, f.b, f.consumers()));
  set_fault_injector({});
  EXPECT_EQ(f.bound(), f.a);
  ASSERT_EQ(pending_notifications(f.state)->size(), 1u);
  const auto before = f.calls();
  replay_owed_notifications(f.s, f.consumers());
  EXPECT_EQ(f.calls(), before);
  EXPECT_TRUE(pending_notifications(f.state)->empty());
}

TEST(Hooks, AnOwedRecordCertagentDidNotWriteIsAClearError) {
  HookFixture f;
  ASSERT_TRUE(fsutil::make_private_dir(f.state / "notify"));
  std::ofstream(f.state / "notify" / "Default") << "../../etc\n";
  auto owed = pending_notifications(f.state);
  ASSERT_FALSE(owed);
  EXPECT_NE(owed.error().message.find("notify/Default is not a record certagent wrote"), std::string::npos)
      << owed.error().message;
}

TEST(Hooks, FailingHookRollsBackToTheOldThumbprint) {
  HookFixture f;
  ASSERT_TRUE(rebind(f.s, kDefault, f.a, f.consumers()));
  ASSERT_TRUE(fsutil::write_file_atomic(f.status, "fail-bind", 0600));
  auto out = rebind(f.s, kDefault, f.b, f.consumers());
  ASSERT_TRUE(out);
  const auto& o = (*out)[0];
  ASSERT_TRUE(o.failure);
  EXPECT_EQ(o.failure->kind, ErrorKind::Hook);
  EXPECT_NE(o.failure->message.find("exited with status 3; it said: hook complains"), std::string::npos)
      << "what the hook wrote on stderr is in the error `status` shows: " << o.failure->message;
  EXPECT_TRUE(o.rolled_back);
  EXPECT_FALSE(o.rollback_failure) << o.rollback_failure->message;
  EXPECT_EQ(f.bound(), f.a);
  EXPECT_TRUE(f.s.verify_version(f.b)) << "the new version stays stored";
  auto calls = f.calls();
  auto restore = calls.substr(calls.rfind("--- call"));
  EXPECT_NE(restore.find("CERTAGENT_ACTION=rollback"), std::string::npos) << restore;
  EXPECT_NE(restore.find("CERTAGENT_OLD_THUMBPRINT=" + f.thumb(f.b)), std::string::npos) << restore;
  EXPECT_NE(restore.find("CERTAGENT_NEW_THUMBPRINT=" + f.thumb(f.a)), std::string::npos) << restore;
}

TEST(Hooks, AFailedHooksErrorEndsWithTheEndOfItsOutputEscaped) {
  HookFixture f;
  const fs::path noisy = f.t.path() / "noisy.sh";
  // 2,000 bytes, then the verdict with a terminal escape in it: the error keeps the end.
  ASSERT_TRUE(fsutil::write_file_atomic(
      noisy, "#!/bin/sh\nhead -c 2000 /dev/zero | tr '\\0' x >&2\nprintf '\\nnginx: [emerg] \\033[31mbad\\n\\n' >&2\nexit 1\n",
      0700));
  auto r = run_hooks({Hook{{noisy.string()}, 10s}}, HookEvent{"Default", HookAction::Bind, "v", "", "T", f.state, {}, {}});
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("exited with status 1; it said: ...xxx"), std::string::npos) << m;
  EXPECT_TRUE(m.ends_with("\\nnginx: [emerg] \\x1b[31mbad")) << m;
  EXPECT_LT(m.size(), 800u) << m;
}

TEST(Hooks, TimedOutHookIsKilledAndRolledBack) {
  HookFixture f;
  ASSERT_TRUE(rebind(f.s, kDefault, f.a, f.consumers()));
  ASSERT_TRUE(fsutil::write_file_atomic(f.status, "sleep", 0600));
  auto start = std::chrono::steady_clock::now();
  auto out = rebind(f.s, kDefault, f.b, f.consumers({}, 300ms));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(out);
  ASSERT_TRUE((*out)[0].failure);
  EXPECT_NE((*out)[0].failure->message.find("timed out"), std::string::npos) << (*out)[0].failure->message;
  EXPECT_TRUE((*out)[0].rolled_back);
  EXPECT_EQ(f.bound(), f.a);
  EXPECT_LT(took, 25s) << "killed at its timeout, not waited for (the hook sleeps 30 s)";
}

TEST(Hooks, FailureOnFirstBindKeepsTheNewVersionAndReports) {
  HookFixture f;
  ASSERT_TRUE(fsutil::write_file_atomic(f.status, "fail-bind", 0600));
  auto out = rebind(f.s, kDefault, f.a, f.consumers());
  ASSERT_TRUE(out);
  EXPECT_TRUE((*out)[0].failure);
  EXPECT_FALSE((*out)[0].rolled_back);
  EXPECT_EQ(f.bound(), f.a);
}

// The consumers of a first bind that failed are still owed it: the next pass's replay tells
// them again once the hook works, and then owes nothing more.
TEST(Hooks, AFailedFirstBindIsToldAgainByTheNextPassOnceTheHookWorks) {
  HookFixture f;
  ASSERT_TRUE(fsutil::write_file_atomic(f.status, "fail-bind", 0600));
  ASSERT_TRUE(rebind(f.s, kDefault, f.a, f.consumers()));
  auto owed = pending_notifications(f.s);
  ASSERT_TRUE(owed);
  ASSERT_EQ(owed->size(), 1u);
  EXPECT_EQ(owed->front().version_id, f.a);
  ASSERT_TRUE(fsutil::write_file_atomic(f.status, "ok", 0600));  // the operator fixed it
  const auto calls_before = f.calls().size();
  replay_owed_notifications(f.s, f.consumers());
  EXPECT_GT(f.calls().size(), calls_before) << "the hook was run again";
  auto after = pending_notifications(f.s);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

TEST(Hooks, MissingExecutableIsAFailureNotACrash) {
  HookFixture f;
  std::map<std::string, PurposeConsumers> c = {{"Default", {{Hook{{(f.t.path() / "nope").string()}, 1s}}, {}, {}}}};
  ASSERT_TRUE(rebind(f.s, kDefault, f.a, {}));
  auto out = rebind(f.s, kDefault, f.b, c);
  ASSERT_TRUE(out);
  ASSERT_TRUE((*out)[0].failure);
  EXPECT_NE((*out)[0].failure->message.find("could not start"), std::string::npos) << (*out)[0].failure->message;
  EXPECT_EQ(f.bound(), f.a);
}

TEST(Outputs, CombinedPemWithModeFollowsTheBindingAndTheRollback) {
  HookFixture f;
  auto path = f.t.path() / "edge.pem";
  OutputSpec spec{path, OutputFormat::CombinedPem, std::to_string(::getuid()), std::to_string(::getgid()), 0640,
                  std::nullopt, ""};
  auto c = f.consumers();
  c["Default"].outputs = {spec};
  ASSERT_TRUE(rebind(f.s, kDefault, f.a, c));
  auto dir_a = f.state / "certs" / f.a;
  EXPECT_EQ(*fsutil::read_file(path), *fsutil::read_file(dir_a / "fullchain.pem") + *fsutil::read_file(dir_a / "privkey.pem"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_TRUE(fsutil::write_file_atomic(f.status, "fail-bind", 0600));
  ASSERT_TRUE(rebind(f.s, kDefault, f.b, c));
  EXPECT_EQ(*fsutil::read_file(path), *fsutil::read_file(dir_a / "fullchain.pem") + *fsutil::read_file(dir_a / "privkey.pem"))
      << "after the rollback the output holds the old version again";
}

TEST(Outputs, UnknownOwnerOrRelativePathIsRefused) {
  HookFixture f;
  auto v = *f.s.load_version(f.a);
  auto r = write_output(v, {f.t.path() / "x.pem", OutputFormat::CombinedPem, "no-such-user-certagent", "", 0600, std::nullopt, ""});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no user named"), std::string::npos) << r.error().message;
  EXPECT_FALSE(write_output(v, {"relative.pem", OutputFormat::CombinedPem, "", "", 0600, std::nullopt, ""}));
  EXPECT_FALSE(fs::exists(f.t.path() / "x.pem"));
}

}  // namespace
}  // namespace certagent::agent
