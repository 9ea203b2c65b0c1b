#include "agent/store/lock.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "store_support.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// A child that takes the lock, reports through a pipe, and holds it for `hold`.
struct Holder {
  pid_t pid = -1;
  Holder(const std::filesystem::path& dir, std::chrono::milliseconds hold) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      auto lock = StateLock::try_acquire(dir);
      char c = lock ? 'y' : 'n';
      (void)::write(fds[1], &c, 1);
      std::this_thread::sleep_for(hold);
      ::_exit(0);
    }
    ::close(fds[1]);
    char c = 0;
    EXPECT_EQ(::read(fds[0], &c, 1), 1);
    EXPECT_EQ(c, 'y');
    ::close(fds[0]);
  }
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  }
};

TEST(StateLock, SecondWriterIsToldWhoHoldsTheLock) {
  TempDir t;
  Holder h(t.path(), 5s);
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
  Holder h(t.path(), 60s);  // killed below; holds far longer than any slow wait could take
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
  Holder h(t.path(), 200ms);
  auto second = StateLock::acquire(t.path(), 5s);
  EXPECT_TRUE(second) << second.error().message;
  h.wait();
}

TEST(StateLock, AHolderKilledBySigkillLeavesNoStaleLock) {
  TempDir t;
  Holder h(t.path(), 60s);
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
