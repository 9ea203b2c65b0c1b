// The daemon loop, run in a forked child with a test pass: timer, signals, policy-file
// changes (debounced), cancellation, queueing, --once exit codes, idleness.
#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/cli/cli.hpp"
#include "agent/daemon/run_agent.hpp"
#include "daemon_child.hpp"
#include "support/process_state.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
using testing::DaemonChild;
using testing::summary_waking_at;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// How long a test waits for an event the daemon must produce. Generous: on a loaded 2-core
// machine a child can be kept off the CPU for seconds. An event that comes is taken at once,
// so the bound costs nothing when all is well; behaviour is judged by what happens and in
// which order (and by lower bounds, which load cannot break), not by how fast.
constexpr auto kEvent = 20s;

// A pass that reports the monotonic time it started (CLOCK_MONOTONIC: the same clock in the
// forked child as here), as "at <nanoseconds>", and wants to be woken `after` later.
testing::TestPass timed_pass(std::chrono::seconds after) {
  return [after](const PassRequest& r, const auto& report) {
    report("at " + std::to_string(Clock::now().time_since_epoch().count()));
    return summary_waking_at(r.now + after);
  };
}

// The next "at <ns>" line as a time point (skipping the "pass ..." lines), or nothing.
std::optional<Clock::time_point> next_pass_time(DaemonChild& child) {
  for (int i = 0; i < 4; ++i) {
    auto line = child.next_line(kEvent);
    if (!line) return std::nullopt;
    if (line->rfind("at ", 0) == 0) return Clock::time_point(Clock::duration(std::stoll(line->substr(3))));
  }
  return std::nullopt;
}

// Waits, at most kEvent, until the loop has settled into its sleep: the pass thread joined
// and the loop's thread blocked in epoll_wait (/proc).
void wait_until_settled(pid_t pid) {
  EXPECT_TRUE(::certagent::testing::wait_until([pid] { return ::certagent::testing::idle_in_epoll(pid, kPassThreadName); }, kEvent))
      << "the daemon never settled into its sleep";
}

// Sends `sig` and waits, at most kEvent, until the loop has taken it: no longer pending, and
// the loop back in epoll_wait (asio's handler only writes to a pipe the loop then reads).
void signal_and_wait_taken(DaemonChild& child, int sig) {
  child.signal(sig);
  const pid_t pid = child.pid();
  EXPECT_TRUE(::certagent::testing::wait_until(
      [pid, sig] {
        return !::certagent::testing::signal_pending(pid, sig) &&
               ::certagent::testing::blocked_in(pid, pid, {SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_pwait2});
      },
      kEvent))
      << strsignal(sig) << " was not taken";
}

// A pass that is done at once and wants to be woken `after` later.
testing::TestPass quick_pass(std::chrono::seconds after) {
  return [after](const PassRequest& r, const auto&) { return summary_waking_at(r.now + after); };
}

long count(const std::vector<std::string>& lines, const std::string& line) {
  return std::count(lines.begin(), lines.end(), line);
}

void write_file(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(DaemonLoop, FirstPassIsStartup) {
  DaemonChild child({}, quick_pass(24h));
  EXPECT_EQ(child.next_line(kEvent), "pass startup");
}

TEST(DaemonLoop, TimerPassComesAtNextWake) {
  std::atomic<int> calls{0};
  DaemonChild child({}, [&](const PassRequest& r, const auto& report) {
    report("at " + std::to_string(Clock::now().time_since_epoch().count()));
    return summary_waking_at(r.now + (calls++ == 0 ? 2s : 24h));
  });
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  const auto first = next_pass_time(child);
  ASSERT_TRUE(first);
  // The timer pass comes (the day-long wake it asks for next would not), and not before the
  // wake: next_wake is a whole second 2 s after the pass's (floored) now, so 1-2 s ahead.
  ASSERT_EQ(child.next_line(kEvent), "pass timer");
  const auto second = next_pass_time(child);
  ASSERT_TRUE(second);
  EXPECT_GE(*second - *first, 900ms);
}

TEST(DaemonLoop, DueTimeInThePastSleepsTheMinimumNotZero) {
  DaemonOptions options;
  options.min_sleep = 1s;
  DaemonChild child(options, timed_pass(-60s));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  // Timer passes keep coming, but a minimum sleep apart (measured in the child, when each
  // pass started), not a spin.
  auto previous = next_pass_time(child);
  ASSERT_TRUE(previous);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(child.next_line(kEvent), "pass timer");
    const auto at = next_pass_time(child);
    ASSERT_TRUE(at);
    EXPECT_GE(*at - *previous, 950ms) << "timer pass " << i + 1;
    previous = at;
  }
}

TEST(DaemonLoop, IdleDaemonDoesNotWakeUp) {
  DaemonChild child({}, quick_pass(24h));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  wait_until_settled(child.pid());  // the pass thread finished, the loop asleep
  const long before = testing::context_switches(child.pid());
  const auto lines = child.lines_during(2s);
  const long after = testing::context_switches(child.pid());
  EXPECT_TRUE(lines.empty()) << lines.front();
  // Measured: 0 on an idle machine. A loop polling every 100 ms would show 20+.
  EXPECT_LE(after - before, 4) << "context switches of the idle daemon in 2 s";
  std::cout << "[ measure  ] idle daemon: " << (after - before) << " context switches in 2 s\n";
}

TEST(DaemonLoop, SighupRunsAReloadPass) {
  DaemonChild child({}, quick_pass(24h));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  child.signal(SIGHUP);
  EXPECT_EQ(child.next_line(kEvent), "pass reload");
  child.signal(SIGHUP);
  EXPECT_EQ(child.next_line(kEvent), "pass reload");
}

TEST(DaemonLoop, TriggersDuringAPassQueueExactlyOneMore) {
  testing::TempDir dir;
  const fs::path go = dir.path() / "go";
  std::atomic<int> calls{0};
  // The first pass lasts until the test has sent its signals (it creates `go`), however slow
  // the machine, so that every SIGHUP lands during it.
  DaemonChild child({}, [&calls, go](const PassRequest& r, const auto& report) {
    if (calls++ == 0) {
      const auto deadline = Clock::now() + kEvent;
      while (!fs::exists(go) && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
      report("startup done");
    }
    return summary_waking_at(r.now + 24h);
  });
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  // Each signal taken by the loop while the pass still runs (it only notes them) before the
  // next is sent: three triggers, not one the kernel merged.
  for (int i = 0; i < 3; ++i) signal_and_wait_taken(child, SIGHUP);
  write_file(go, "");
  EXPECT_EQ(child.next_line(kEvent), "startup done");  // no overlap: the reload waited
  EXPECT_EQ(child.next_line(kEvent), "pass reload");
  EXPECT_EQ(count(child.lines_during(1500ms), "pass reload"), 0) << "three triggers, one more pass";
}

// The pass runs in a thread of its own, named (top -H shows it), gone once the pass is over: what
// the tests' "the loop has settled" looks for, beside the loop's thread in epoll_wait.
TEST(DaemonLoop, APassRunsInANamedThreadThatIsGoneWhenTheLoopSleepsAgain) {
  testing::TempDir dir;
  const fs::path go = dir.path() / "go";
  DaemonChild child({}, [go](const PassRequest& r, const auto& report) {
    report("passing");
    const auto deadline = Clock::now() + kEvent;
    while (!fs::exists(go) && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return summary_waking_at(r.now + 24h);
  });
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  ASSERT_EQ(child.next_line(kEvent), "passing");
  EXPECT_TRUE(::certagent::testing::has_thread_named(child.pid(), kPassThreadName));
  EXPECT_FALSE(::certagent::testing::idle_in_epoll(child.pid(), kPassThreadName)) << "a pass is running";
  write_file(go, "");
  wait_until_settled(child.pid());
  EXPECT_FALSE(::certagent::testing::has_thread_named(child.pid(), kPassThreadName));
}

class PolicyWatch : public ::testing::Test {
 protected:
  void SetUp() override {
    policy = dir.path() / "policy.json";
    write_file(policy, "{}\n");
    options.policy_file = policy;
  }
  testing::TempDir dir;
  fs::path policy;
  DaemonOptions options;
};

TEST_F(PolicyWatch, EditorRenameTriggersOnePolicyChangedPass) {
  DaemonChild child(options, quick_pass(24h));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  write_file(dir.path() / ".policy.json.swp", "{\"a\":1}\n");
  fs::rename(dir.path() / ".policy.json.swp", policy);
  EXPECT_EQ(child.next_line(kEvent), "pass policy-changed");
  EXPECT_TRUE(child.lines_during(1500ms).empty()) << "one change, one pass";
}

TEST_F(PolicyWatch, VimStyleSaveIsOneChange) {
  DaemonChild child(options, quick_pass(24h));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  // vim: probe file, move the original to a backup, write a new file, remove the backup.
  write_file(dir.path() / "4913", "");
  fs::remove(dir.path() / "4913");
  fs::rename(policy, dir.path() / "policy.json~");
  write_file(policy, "{\"b\":2}\n");
  fs::remove(dir.path() / "policy.json~");
  EXPECT_EQ(child.next_line(kEvent), "pass policy-changed");
  EXPECT_TRUE(child.lines_during(1500ms).empty()) << "one save, one pass";
}

TEST_F(PolicyWatch, PlainWriteTriggersOnePolicyChangedPassEachTime) {
  DaemonChild child(options, quick_pass(24h));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  write_file(policy, "{\"c\":3}\n");
  EXPECT_EQ(child.next_line(kEvent), "pass policy-changed");
  EXPECT_TRUE(child.lines_during(1200ms).empty()) << "one write, one pass";
  { std::ofstream(policy, std::ios::app) << "// appended\n"; }
  EXPECT_EQ(child.next_line(kEvent), "pass policy-changed");
  EXPECT_TRUE(child.lines_during(1200ms).empty()) << "one write, one pass";
}

TEST_F(PolicyWatch, OtherFilesInTheDirectoryAreIgnored) {
  DaemonChild child(options, quick_pass(24h));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  write_file(dir.path() / "policy.json.bak", "x");
  write_file(dir.path() / "other.json", "x");
  fs::rename(dir.path() / "other.json", dir.path() / "another.json");
  EXPECT_TRUE(child.lines_during(1200ms).empty());
}

TEST_F(PolicyWatch, RemovalCountsAsAChange) {
  DaemonChild child(options, quick_pass(24h));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  fs::remove(policy);
  EXPECT_EQ(child.next_line(kEvent), "pass policy-changed");
}

TEST(DaemonLoop, AMissingPolicyDirectoryIsNotWatchedButSighupStillReloads) {
  DaemonOptions options;
  options.policy_file = "/nonexistent-certagent-dir/policy.json";
  DaemonChild child(options, quick_pass(24h));
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  child.signal(SIGHUP);
  EXPECT_EQ(child.next_line(kEvent), "pass reload");
}

TEST(DaemonLoop, SigtermDuringAPassSetsCancelAndExitsZero) {
  // The pass would run for two minutes unless cancelled: "cancel observed" before the exit,
  // with the pass counted, shows that the stop went through the cancel flag.
  DaemonChild child({}, [](const PassRequest& r, const auto& report) {
    const auto deadline = Clock::now() + 120s;
    while (!r.cancelled() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    if (r.cancelled()) report("cancel observed");
    return summary_waking_at(r.now + 24h);
  });
  ASSERT_EQ(child.next_line(kEvent), "pass startup");  // the pass runs from here on
  child.signal(SIGTERM);
  EXPECT_EQ(child.next_line(kEvent), "cancel observed");
  EXPECT_EQ(child.next_line(kEvent), "exit 0 passes 1");
  EXPECT_EQ(child.wait_exit(kEvent), 0);
}

// A consumer notification still owed after a pass (a hook that failed after its purpose was
// switched) brings the daemon back within the back-off, not at the due time a day away; once
// none is owed, it sleeps until that due time.
TEST(DaemonLoop, ANotificationStillOwedBringsTheDaemonBackWithinTheBackoff) {
  testing::TempDir state;
  const fs::path owed = state.path() / "notify" / "Default";
  fs::create_directories(owed.parent_path());
  write_file(owed, "20261207T120000Z-0123456789abcdef\n\n");
  std::atomic<int> calls{0};
  // The second pass tells the consumers (the record goes), as replay_owed_notifications does.
  DaemonChild child({}, [&calls, owed](const PassRequest& r, const auto&) {
    if (calls++ == 1) fs::remove(owed);
    return summary_waking_at(r.now + 24h);
  }, {{"CERTAGENT_BACKOFF_INITIAL", "1"}}, /*through_run_agent=*/true, state.path());
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  EXPECT_EQ(child.next_line(kEvent), "pass timer") << "the owed notification was left for the next due time";
  EXPECT_TRUE(child.lines_during(2500ms).empty()) << "none owed any more: back to the day-long sleep";
}

TEST(DaemonLoop, SigtermOrSigintWhileIdleExitsZeroAtOnce) {
  for (int sig : {SIGTERM, SIGINT}) {
    DaemonChild child({}, quick_pass(24h));
    ASSERT_EQ(child.next_line(kEvent), "pass startup");
    wait_until_settled(child.pid());  // the pass thread finished, the loop asleep
    child.signal(sig);
    EXPECT_EQ(child.next_line(kEvent), "exit 0 passes 1");  // not the day-long sleep
    EXPECT_EQ(child.wait_exit(kEvent), 0);
  }
}

TEST(DaemonLoop, APassIgnoringCancelIsAbandonedAfterTheGrace) {
  DaemonOptions options;
  options.stop_grace = 500ms;
  // The pass ignores the cancel flag and never returns: the exit is the abandonment, and not
  // before the grace has passed.
  DaemonChild child(options, [](const PassRequest& r, const auto&) {
    for (;;) ::pause();
    return summary_waking_at(r.now + 24h);
  });
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  const auto sent = Clock::now();
  child.signal(SIGTERM);
  EXPECT_EQ(child.next_line(kEvent), "exit 1 passes 0 abandoned");
  EXPECT_GE(Clock::now() - sent, 500ms) << "the grace was given";
  EXPECT_EQ(child.wait_exit(kEvent), kExitFailed);
}

TEST(DaemonLoop, ThePassThreadLeavesTheStopAndReloadSignalsToTheLoop) {
  DaemonChild child({}, [](const PassRequest& r, const auto& report) {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    for (int s : {SIGHUP, SIGTERM, SIGINT})
      report(std::string(strsignal(s)) + (sigismember(&mask, s) == 1 ? " blocked" : " open"));
    return summary_waking_at(r.now + 24h);
  });
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  EXPECT_EQ(child.next_line(kEvent), std::string(strsignal(SIGHUP)) + " blocked");
  EXPECT_EQ(child.next_line(kEvent), std::string(strsignal(SIGTERM)) + " blocked");
  EXPECT_EQ(child.next_line(kEvent), std::string(strsignal(SIGINT)) + " blocked");
  // and the loop still takes them: a reload, then a stop
  child.signal(SIGHUP);
  ASSERT_EQ(child.next_line(kEvent), "pass reload");
}

TEST(DaemonLoop, RunNowLiftsTheBackoffForTheStartupPassOnly) {
  DaemonOptions options;
  options.retry_now = true;
  DaemonChild child(options, [](const PassRequest& r, const auto& report) {
    report(r.retry_now ? "retry now" : "back-off honoured");
    return summary_waking_at(r.now + 24h);
  });
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  EXPECT_EQ(child.next_line(kEvent), "retry now");
  child.signal(SIGHUP);
  ASSERT_EQ(child.next_line(kEvent), "pass reload");
  EXPECT_EQ(child.next_line(kEvent), "back-off honoured");
}

TEST(DaemonLoop, AThrowingPassDoesNotStopTheLoop) {
  std::atomic<int> calls{0};
  DaemonChild child({}, [&](const PassRequest& r, const auto&) -> PassSummary {
    if (calls++ == 0) throw std::runtime_error("engine bug");
    return summary_waking_at(r.now + 24h);
  });
  ASSERT_EQ(child.next_line(kEvent), "pass startup");
  child.signal(SIGHUP);
  EXPECT_EQ(child.next_line(kEvent), "pass reload");
}

TEST(DaemonLoop, OnceRunsOnePassAndExitsWithItsCode) {
  struct Case { PassSummary summary; int code; };
  PassSummary invalid;
  invalid.policy_error = "policy.json:3:7: expected a string";
  PassSummary failed;
  failed.failed = true;
  failed.incomplete = true;
  PassSummary incomplete;
  incomplete.incomplete = true;
  for (const Case& c : {Case{PassSummary{}, kExitOk}, Case{invalid, kExitUsage}, Case{failed, kExitFailed},
                        Case{incomplete, kExitIncomplete}}) {
    DaemonOptions options;
    options.once = true;
    DaemonChild child(options, [s = c.summary](const PassRequest&, const auto&) { return s; });
    EXPECT_EQ(child.next_line(kEvent), "pass startup");
    EXPECT_EQ(child.wait_exit(kEvent), c.code);
  }
}

TEST(DaemonLoop, OnceThroughRunAgentRefusesMetricsAndReportsFactoryFailure) {
  GlobalOptions globals;
  RunOptions run;
  run.once = true;
  run.metrics_listen = "127.0.0.1:9464";
  const auto never = [](const GlobalOptions&) -> Result<PassFn> { ADD_FAILURE() << "built a pass"; return PassFn{}; };
  EXPECT_EQ(run_agent(globals, run, never), kExitUsage);
  run.metrics_listen = "0.0.0.0:9464";
  run.once = false;
  EXPECT_EQ(run_agent(globals, run, never), kExitUsage);
  run.metrics_listen.clear();
  const auto broken = [](const GlobalOptions&) -> Result<PassFn> {
    return fail(ErrorKind::Storage, "another certagent (pid 1) holds /var/lib/certagent/lock");
  };
  EXPECT_EQ(run_agent(globals, run, broken), kExitFailed);
}

TEST(DaemonLoop, SleepDurationIsClamped) {
  const auto now = std::chrono::system_clock::time_point{} + 1000s + 250ms;
  const auto at = [](long s) { return std::optional{std::chrono::sys_seconds{std::chrono::seconds{s}}}; };
  EXPECT_EQ(sleep_duration(std::nullopt, now, 1s, 86400s), 86400s);
  EXPECT_EQ(sleep_duration(at(1010), now, 1s, 86400s), 9750ms);
  EXPECT_EQ(sleep_duration(at(900), now, 1s, 86400s), 1s);
  EXPECT_EQ(sleep_duration(at(1000 + 3 * 86400), now, 1s, 86400s), 86400s);
}

TEST(DaemonLoop, QueuedReasonsKeepTheStrongest) {
  EXPECT_EQ(merge_reasons(WakeReason::Timer, WakeReason::Reload), WakeReason::Reload);
  EXPECT_EQ(merge_reasons(WakeReason::PolicyChanged, WakeReason::Timer), WakeReason::PolicyChanged);
  EXPECT_EQ(merge_reasons(WakeReason::Reload, WakeReason::PolicyChanged), WakeReason::PolicyChanged);
}

}  // namespace
}  // namespace certagent::agent
