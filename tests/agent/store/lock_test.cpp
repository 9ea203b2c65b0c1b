#include "agent/store/lock.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "store_support.hpp"
#include "support/process_state.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// A child that takes the lock, reports through a pipe, and holds it until release() (or the
// Holder goes, or it is killed).
struct Holder {
  pid_t pid = -1;
  int release_fd = -1;  // closing it lets the child go
  explicit Holder(const std::filesystem::path& dir) {
    int report[2], hold[2];
    EXPECT_EQ(::pipe(report), 0);
    EXPECT_EQ(::pipe(hold), 0);
    pid = ::fork();
    if (pid == 0) {
      ::close(report[0]);
      ::close(hold[1]);
      auto lock = StateLock::try_acquire(dir);
      char c = lock ? 'y' : 'n';
      (void)::write(report[1], &c, 1);
      (void)::read(hold[0], &c, 1);  // EOF: released
      ::_exit(0);
    }
    ::close(report[1]);
    ::close(hold[0]);
    release_fd = hold[1];
    char c = 0;
    EXPECT_EQ(::read(report[0], &c, 1), 1);
    EXPECT_EQ(c, 'y');
    ::close(report[0]);
  }
  ~Holder() {
    release();
    if (pid > 0) ::kill(pid, SIGKILL);
    wait();
  }
  void release() {
    if (release_fd >= 0) ::close(release_fd);
    release_fd = -1;
  }
  int wait() {
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid) pid = -1;
    return status;
  }
};

TEST(StateLock, SecondWriterIsToldWhoHoldsTheLock) {
  TempDir t;
  Holder h(t.path());
  auto second = StateLock::try_acquire(t.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorKind::Storage);
  std::string want = "another certagent (pid " + std::to_string(h.pid) + ") holds " + (t.path() / "lock").string();
  EXPECT_EQ(second.error().message, want);
  ::kill(h.pid, SIGKILL);
  h.wait();
}

TEST(StateLock, WaitTimesOut) {
  TempDir t;
  Holder h(t.path());  // holds until it is killed below
  auto start = std::chrono::steady_clock::now();
  auto second = StateLock::acquire(t.path(), 300ms);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorKind::Timeout);
  EXPECT_NE(second.error().message.find("waited 300 ms"), std::string::npos) << second.error().message;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 30s) << "gave up on its own, not when the holder let go";
  ::kill(h.pid, SIGKILL);
  h.wait();
}

TEST(StateLock, WaitSucceedsWhenTheHolderFinishes) {
  TempDir t;
  Holder h(t.path());
  std::atomic<pid_t> waiter{0};
  std::thread releaser([&] {  // once the waiting thread sleeps between two looks at the lock
    const pid_t self = ::getpid();
    EXPECT_TRUE(::certagent::testing::wait_until(
        [&] {
          const pid_t tid = waiter.load();
          return tid != 0 && ::certagent::testing::blocked_in(self, tid, {SYS_nanosleep, SYS_clock_nanosleep});
        },
        10s));
    h.release();
  });
  waiter = static_cast<pid_t>(::gettid());
  auto second = StateLock::acquire(t.path(), 20s);
  releaser.join();
  EXPECT_TRUE(second) << second.error().message;
  EXPECT_EQ(WEXITSTATUS(h.wait()), 0) << "the holder let go when told";
}

TEST(StateLock, AHolderKilledBySigkillLeavesNoStaleLock) {
  TempDir t;
  Holder h(t.path());
  ::kill(h.pid, SIGKILL);
  h.wait();
  EXPECT_TRUE(StateLock::try_acquire(t.path()));
}

TEST(StateLock, ReleasedOnDestruction) {
  TempDir t;
  { auto first = StateLock::try_acquire(t.path()); ASSERT_TRUE(first); }
  int status = testing::run_in_child([&] { ::_exit(StateLock::try_acquire(t.path()) ? 0 : 1); });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(StateLock, RefusesASymlinkedLockFile) {
  TempDir t;
  std::filesystem::create_symlink(t.path() / "elsewhere", t.path() / "lock");
  auto r = StateLock::try_acquire(t.path());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(t.path() / "elsewhere"));
}

}  // namespace
}  // namespace certagent::agent
