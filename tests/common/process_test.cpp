#include "common/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace certagent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

ProcessSpec sh(std::string script) {
  ProcessSpec s;
  s.argv = {"/bin/sh", "-c", std::move(script)};
  s.timeout = 10s;
  return s;
}

using certagent::testing::TempDir;

TEST(Process, ReportsExitCodes) {
  for (int code : {0, 1, 3, 42, 255}) {
    auto r = run_process(sh("exit " + std::to_string(code)));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, code);
    EXPECT_EQ(r->signal, 0);
    EXPECT_FALSE(r->timed_out);
    EXPECT_EQ(r->succeeded(), code == 0);
  }
}

TEST(Process, CapturesStdoutAndStderrSeparately) {
  auto r = run_process(sh("printf 'to out\\n'; printf 'to err' >&2"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "to out\n");
  EXPECT_EQ(r->err, "to err");
}

TEST(Process, LargeOutputOnBothPipesDoesNotDeadlockAndIsCapped) {
  // 1 MiB on each pipe, interleaved: a reader that only drains one pipe hangs.
  auto spec = sh("head -c 1048576 /dev/zero | tr '\\0' a; head -c 1048576 /dev/zero | tr '\\0' b >&2; echo done");
  spec.output_cap = 64 * 1024;
  auto r = run_process(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out.size(), 64u * 1024);
  EXPECT_EQ(r->err.size(), 64u * 1024);
  EXPECT_TRUE(r->out_truncated);
  EXPECT_TRUE(r->err_truncated);
  EXPECT_EQ(r->out.find_first_not_of('a'), std::string::npos);
}

TEST(Process, HookSleepingPastTheTimeoutIsKilledInTime) {
  auto spec = sh("echo started; sleep 30");
  spec.timeout = 300ms;
  spec.kill_grace = 300ms;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_process(spec);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_EQ(r->out, "started\n");
  EXPECT_LT(took, 20s) << "killed, not waited for (the program sleeps 30 s)";
  EXPECT_NE(describe(*r, spec).find("timed out after 300 ms"), std::string::npos) << describe(*r, spec);
}

TEST(Process, ACancelRequestEndsTheProcessLongBeforeItsTimeout) {
  testing::TempDir dir;
  const fs::path started = dir.path() / "started";
  std::atomic<bool> cancel{false};
  auto spec = sh("echo started; : > '" + started.string() + "'; sleep 30");
  spec.timeout = 60s;
  spec.kill_grace = 300ms;
  spec.cancel = &cancel;
  std::thread stopper([&] {  // once the program runs
    const auto limit = std::chrono::steady_clock::now() + 10s;
    while (!fs::exists(started) && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(5ms);
    cancel = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_process(spec);
  auto took = std::chrono::steady_clock::now() - t0;
  stopper.join();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_LT(took, 20s) << "ended by the cancel, not the 60 s timeout nor the 30 s sleep";
  EXPECT_NE(describe(*r, spec).find("the agent is stopping"), std::string::npos) << describe(*r, spec);
}

TEST(Process, AnUnsetCancelFlagChangesNothing) {
  std::atomic<bool> cancel{false};
  auto spec = sh("exit 0");
  spec.cancel = &cancel;
  auto r = run_process(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->succeeded());
  EXPECT_FALSE(r->cancelled);
}

TEST(Process, ProgramIgnoringSigtermGetsSigkillAfterGrace) {
  auto spec = sh("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  spec.timeout = 300ms;
  spec.kill_grace = 300ms;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_process(spec);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_GE(took, 550ms);  // the timeout, then the grace
  EXPECT_LT(took, 20s);
}

TEST(Process, TimeoutKillsTheWholeProcessGroup) {
  TempDir dir;
  const auto marker = dir.path() / "grandchild-survived";
  const auto pid_file = dir.path() / "grandchild.pid";
  // The grandchild writes its pid, then would create the marker after 3 s if it were not
  // killed. The group is killed after 200 ms; the test then waits for the grandchild's end.
  auto spec = sh("sh -c 'echo $$ > \"" + pid_file.string() + "\"; sleep 3; touch \"" + marker.string() +
                 "\"' & while [ ! -s '" + pid_file.string() + "' ]; do :; done; sleep 30");
  spec.timeout = 200ms;
  spec.kill_grace = 200ms;
  auto r = run_process(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  ASSERT_TRUE(in >> grandchild) << "the grandchild wrote its pid before the timeout";
  // Bounded wait for the grandchild to be gone: no such process, or a zombie left to whoever
  // reaps orphans here.
  const auto alive = [grandchild] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, comm, state;
    return stat >> pid >> comm >> state && state != "Z";
  };
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (alive() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(alive()) << "the grandchild " << grandchild << " outlived its group's kill";
  EXPECT_FALSE(fs::exists(marker));
}

TEST(Process, BackgroundedGrandchildHoldingThePipeDoesNotHangUs) {
  auto spec = sh("sleep 30 & echo quick");
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_process(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "quick\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s) << "did not wait for the grandchild's 30 s";
}

TEST(Process, ShellMetacharactersInArgvArePassedLiterally) {
  TempDir dir;
  auto victim = dir.path() / "pwned";
  const std::vector<std::string> hostile = {
      "; touch " + victim.string(), "$(touch " + victim.string() + ")", "`id`", "a b\tc", "*", "'\"", "|cat", "&&", ">x",
      "\n", ""};
  ProcessSpec spec;
  spec.argv = {"/usr/bin/printf", "[%s]"};
  spec.argv.insert(spec.argv.end(), hostile.begin(), hostile.end());
  spec.working_dir = dir.path().string();
  auto r = run_process(spec);
  ASSERT_TRUE(r) << r.error().message;
  std::string expected;
  for (const auto& h : hostile) expected += "[" + h + "]";
  EXPECT_EQ(r->out, expected);
  EXPECT_FALSE(fs::exists(victim));
  EXPECT_FALSE(fs::exists(dir.path() / "x"));
}

TEST(Process, MissingExecutableIsAClearError) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/certagent-hook", "add"};
  auto r = run_process(spec);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent/certagent-hook"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos) << r.error().message;
}

TEST(Process, NonExecutableFileIsAClearError) {
  TempDir dir;
  auto file = dir.path() / "hook";
  std::ofstream(file) << "#!/bin/sh\nexit 0\n";
  ::chmod(file.c_str(), 0644);
  ProcessSpec spec;
  spec.argv = {file.string()};
  auto r = run_process(spec);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Permission denied"), std::string::npos) << r.error().message;
}

TEST(Process, BareNameNeedsAPathInTheChildEnvironment) {
  ProcessSpec spec;
  spec.argv = {"true"};
  auto r = run_process(spec);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no PATH"), std::string::npos) << r.error().message;

  spec.inherit_path = true;
  auto r2 = run_process(spec);
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(r2->exit_code, 0);

  spec.argv = {"certagent-no-such-program-xyz"};
  auto r3 = run_process(spec);
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().message.find("not found in PATH"), std::string::npos) << r3.error().message;
}

TEST(Process, EnvironmentIsExactlyWhatWasGiven) {
  ::setenv("CERTAGENT_TEST_SECRET", "leak", 1);
  ProcessSpec spec;
  spec.argv = {"/usr/bin/env"};
  spec.env = {"A=1", "B=two words"};
  auto r = run_process(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "A=1\nB=two words\n");

  spec.inherit_path = true;
  auto r2 = run_process(spec);
  ASSERT_TRUE(r2);
  EXPECT_NE(r2->out.find("\nPATH="), std::string::npos) << r2->out;
  EXPECT_EQ(r2->out.find("CERTAGENT_TEST_SECRET"), std::string::npos);
}

TEST(Process, MalformedSpecIsRefused) {
  ProcessSpec empty;
  EXPECT_FALSE(run_process(empty));
  ProcessSpec nul;
  nul.argv = {"/bin/echo", std::string("a\0b", 3)};
  auto r = run_process(nul);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("NUL"), std::string::npos);
  ProcessSpec env;
  env.argv = {"/bin/true"};
  env.env = {"NOEQUALS"};
  EXPECT_FALSE(run_process(env));
  env.env = {"=value"};
  EXPECT_FALSE(run_process(env));
}

TEST(Process, RunsInTheWorkingDirectory) {
  TempDir dir;
  auto spec = sh("pwd -P");
  spec.working_dir = dir.path().string();
  auto r = run_process(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, fs::canonical(dir.path()).string() + "\n");

  spec.working_dir = "/nonexistent-dir-certagent";
  auto r2 = run_process(spec);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("/nonexistent-dir-certagent"), std::string::npos) << r2.error().message;
}

TEST(Process, ReportsDeathBySignal) {
  auto spec = sh("kill -KILL $$");
  auto r = run_process(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(describe(*r, spec), "killed by signal 9 (SIGKILL)");
}

TEST(Process, ChildDoesNotInheritOurDescriptors) {
  int null_fd = ::open("/dev/null", O_RDONLY);
  int fd = ::fcntl(null_fd, F_DUPFD, 77);  // deliberately without close-on-exec
  ::close(null_fd);
  ASSERT_GE(fd, 77);
  auto r = run_process(sh("ls /proc/self/fd"));
  ::close(fd);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out.find("\n" + std::to_string(fd) + "\n"), std::string::npos) << r->out;
}

TEST(EscapeControl, EscapesTerminalSequencesAndCuts) {
  EXPECT_EQ(escape_control("plain text"), "plain text");
  EXPECT_EQ(escape_control("\x1b[31mred\n"), "\\x1b[31mred\\n");
  EXPECT_EQ(escape_control(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape_control("back\\slash\t\r\x7f\x9b"), "back\\\\slash\\t\\r\\x7f\\x9b");
  EXPECT_EQ(escape_control("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace certagent
