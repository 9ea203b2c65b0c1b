#include "protocol/acme/dns01_hook_solver.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace certagent::protocol {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kValue = "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo";

ChallengeTask task(const std::string& identifier, const std::string& value = kValue) {
  return ChallengeTask{identifier, "dns-01", "tok", "tok.thumb", value};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Dns01Hook : public ::testing::Test {
 protected:
  certagent::testing::TempDir tmp{"certagent-dns01"};
  fs::path dir = tmp.path();
  fs::path log = dir / "calls.log";

  // A hook script (the hook may be a script; certagent itself runs no shell).
  fs::path hook(const std::string& body) {
    auto p = dir / "hook.sh";
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    ::chmod(p.c_str(), 0755);
    return p;
  }
  std::unique_ptr<ChallengeSolver> solver(const fs::path& h, std::chrono::milliseconds timeout = 10s) {
    Dns01HookOptions o;
    o.hook = h;
    o.timeout = timeout;
    o.env = {"LOG=" + log.string()};
    return make_dns01_hook_solver(o);
  }
  // Logs each argument on its own line, "|" marking where it ends.
  fs::path logging_hook() { return hook("for a in \"$@\"; do printf '%s|' \"$a\" >> \"$LOG\"; done; echo >> \"$LOG\""); }

};

TEST_F(Dns01Hook, AddAndRemoveRunTheHookWithTheDocumentedArgv) {
  auto s = solver(logging_hook());
  EXPECT_EQ(s->type(), "dns-01");
  ASSERT_TRUE(s->present(task("Www.Example.COM.")));
  ASSERT_TRUE(s->clean_up(task("Www.Example.COM.")));
  EXPECT_EQ(slurp(log), "add|_acme-challenge.www.example.com|" + kValue + "|\n" +
                            "remove|_acme-challenge.www.example.com|" + kValue + "|\n");
}

TEST_F(Dns01Hook, WildcardUsesTheBaseName) {
  auto s = solver(logging_hook());
  ASSERT_TRUE(s->present(task("*.example.com")));
  EXPECT_EQ(slurp(log), "add|_acme-challenge.example.com|" + kValue + "|\n");
}

TEST_F(Dns01Hook, CleanUpOfATaskNeverPresentedRunsNothing) {
  auto s = solver(logging_hook());
  ASSERT_TRUE(s->clean_up(task("a.example")));
  ASSERT_TRUE(s->clean_up(task("$(reboot)")));
  EXPECT_FALSE(fs::exists(log));
}

TEST_F(Dns01Hook, NonZeroExitIsAnErrorWithTheEscapedStderr) {
  auto s = solver(hook("printf 'API said no\\n\\033[2J\\033]0;owned\\007' >&2; exit 3"));
  auto r = s->present(task("a.example"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Hook);
  const auto& m = r.error().message;
  EXPECT_NE(m.find("exited with status 3"), std::string::npos) << m;
  EXPECT_NE(m.find("add _acme-challenge.a.example"), std::string::npos) << m;
  EXPECT_NE(m.find("API said no\\n\\x1b[2J\\x1b]0;owned\\x07"), std::string::npos) << m;
  EXPECT_EQ(m.find('\x1b'), std::string::npos);
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST_F(Dns01Hook, FailedRemoveCanBeRetried) {
  auto flag = dir / "fail-remove";
  std::ofstream(flag) << "";
  auto s = solver(hook("[ \"$1\" = remove ] && [ -e '" + flag.string() + "' ] && exit 1; echo \"$1\" >> \"$LOG\""));
  ASSERT_TRUE(s->present(task("a.example")));
  EXPECT_FALSE(s->clean_up(task("a.example")));
  fs::remove(flag);
  ASSERT_TRUE(s->clean_up(task("a.example")));
  ASSERT_TRUE(s->clean_up(task("a.example")));  // done: the second is a no-op
  EXPECT_EQ(slurp(log), "add\nremove\n");
}

TEST_F(Dns01Hook, HookThatHangsIsKilledAtTheTimeout) {
  auto s = solver(hook("sleep 30"), 300ms);
  auto t0 = std::chrono::steady_clock::now();
  auto r = s->present(task("a.example"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s) << "ended early, not after the hook's 30 s";
}

TEST_F(Dns01Hook, AHookRunningWhenTheAgentStopsIsEndedAsCancelled) {
  std::atomic<bool> cancel{true};  // the agent is already stopping
  Dns01HookOptions o;
  o.hook = hook("sleep 30");
  o.timeout = 60s;
  o.cancel = &cancel;
  auto s = make_dns01_hook_solver(o);
  auto t0 = std::chrono::steady_clock::now();
  auto r = s->present(task("a.example"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Cancelled) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s) << "ended early, not after the hook's 30 s";
}

TEST_F(Dns01Hook, HostileIdentifiersAndValuesNeverReachTheHook) {
  auto s = solver(logging_hook());
  for (const std::string id : {"a.example; rm -rf /", "$(touch /tmp/x)", "`id`.example", "-rf", "a..example", "",
                               "../../etc", "a example", "\x1b[31m.example", "*.*.example", "a.example\n-x"}) {
    auto r = s->present(task(id));
    ASSERT_FALSE(r) << "accepted: " << id;
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
    EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(s->present(task(std::string(300, 'a') + ".example")));
  for (const std::string& v : std::vector<std::string>{"", "a b", "$(id)", "abc=", std::string(200, 'A')}) EXPECT_FALSE(s->present(task("a.example", v))) << v;
  auto wrong_type = task("a.example");
  wrong_type.type = "http-01";
  EXPECT_FALSE(s->present(wrong_type));
  EXPECT_FALSE(fs::exists(log));
}

TEST_F(Dns01Hook, MissingOrRelativeHookIsAClearError) {
  auto s = solver(dir / "no-such-hook");
  auto r = s->present(task("a.example"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no-such-hook"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos) << r.error().message;
  auto rel = solver("hook.sh");
  auto r2 = rel->present(task("a.example"));
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("absolute path"), std::string::npos) << r2.error().message;
}

TEST(Dns01RecordName, Table) {
  EXPECT_EQ(dns01_record_name("example.com"), "_acme-challenge.example.com");
  EXPECT_EQ(dns01_record_name("*.Example.com."), "_acme-challenge.example.com");
  EXPECT_EQ(dns01_record_name("xn--bcher-kva.example"), "_acme-challenge.xn--bcher-kva.example");
  EXPECT_FALSE(dns01_record_name("bücher.example"));
  EXPECT_FALSE(dns01_record_name("*"));
  EXPECT_FALSE(dns01_record_name(std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                                 std::string(61, 'd')));  // 253 octets: no room for the prefix
}

}  // namespace
}  // namespace certagent::protocol
