#include "agent/store/fsutil.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "agent/store/fault.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

struct FaultGuard {
  explicit FaultGuard(FaultInjector f) { set_fault_injector(std::move(f)); }
  ~FaultGuard() { set_fault_injector({}); }
};

TEST(FsUtil, AtomicWriteReplacesContentWithExactMode) {
  TempDir t;
  auto file = t.path() / "f";
  mode_t old = ::umask(0);
  ASSERT_TRUE(fsutil::write_file_atomic(file, "one", 0600));
  ::umask(old);
  ASSERT_TRUE(fsutil::write_file_atomic(file, "two two", 0644));
  EXPECT_EQ(*fsutil::read_file(file), "two two");
  EXPECT_EQ(mode_of(file), 0644u);
  EXPECT_EQ(names_in(t.path()), std::vector<std::string>{"f"});
}

TEST(FsUtil, KeyModeIs0600EvenWithPermissiveUmask) {
  TempDir t;
  mode_t old = ::umask(0);
  ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "k", "secret", 0600));
  ::umask(old);
  EXPECT_EQ(mode_of(t.path() / "k"), 0600u);
}

TEST(FsUtil, InjectedFailureAtEveryStepLeavesOldContentAndNoTemporary) {
  for (const char* point : {"write_file.after_create", "write_file.mid_write", "write_file.before_rename"}) {
    TempDir t;
    auto file = t.path() / "f";
    ASSERT_TRUE(fsutil::write_file_atomic(file, "old content", 0600));
    FaultGuard g([&](std::string_view p) { return p == point; });
    auto r = fsutil::write_file_atomic(file, std::string(10000, 'n'), 0600);
    ASSERT_FALSE(r) << point;
    EXPECT_NE(r.error().message.find(point), std::string::npos) << r.error().message;
    EXPECT_EQ(*fsutil::read_file(file), "old content") << point;
    EXPECT_EQ(names_in(t.path()), std::vector<std::string>{"f"}) << point;
  }
}

TEST(FsUtil, SigkillMidWriteLeavesOldContentAndOnlyATemporary) {
  for (const char* point : {"write_file.after_create", "write_file.mid_write", "write_file.before_rename"}) {
    TempDir t;
    auto file = t.path() / "f";
    ASSERT_TRUE(fsutil::write_file_atomic(file, "old content", 0600));
    int status = testing::run_in_child([&] {
      set_fault_injector([&](std::string_view p) {
        if (p == point) ::raise(SIGKILL);
        return false;
      });
      (void)fsutil::write_file_atomic(file, std::string(10000, 'n'), 0600);
    });
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << point;
    EXPECT_EQ(*fsutil::read_file(file), "old content") << point;
    auto names = names_in(t.path());
    ASSERT_EQ(names.size(), 2u) << point;  // f and the half-written temporary
    for (const auto& n : names) EXPECT_TRUE(n == "f" || fsutil::is_temp_name(n)) << n;
  }
}

TEST(FsUtil, WriteRefusesSymlinkAndDirectory) {
  TempDir t;
  fs::create_symlink(t.path() / "target", t.path() / "link");
  auto r = fsutil::write_file_atomic(t.path() / "link", "x", 0600);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(t.path() / "target"));
  fs::create_directory(t.path() / "d");
  EXPECT_FALSE(fsutil::write_file_atomic(t.path() / "d", "x", 0600));
}

TEST(FsUtil, WriteNewFileRefusesExistingAndSymlink) {
  TempDir t;
  ASSERT_TRUE(fsutil::write_new_file(t.path() / "a", "1", 0600));
  EXPECT_FALSE(fsutil::write_new_file(t.path() / "a", "2", 0600));
  EXPECT_EQ(*fsutil::read_file(t.path() / "a"), "1");
  fs::create_symlink(t.path() / "nowhere", t.path() / "l");
  EXPECT_FALSE(fsutil::write_new_file(t.path() / "l", "2", 0600));
  EXPECT_FALSE(fs::exists(t.path() / "nowhere"));
}

TEST(FsUtil, AnUnflushedNewFileHasItsBytesAndExactModeAndRefusesWhatExists) {
  TempDir t;
  const auto f = t.path() / "key.pem";
  ASSERT_TRUE(fsutil::write_new_file_unflushed(f, "secret\n", 0600));
  EXPECT_EQ(mode_of(f), 0600u);
  EXPECT_EQ(*fsutil::read_file(f), "secret\n");
  auto again = fsutil::write_new_file_unflushed(f, "other", 0644);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos) << again.error().message;
  EXPECT_EQ(*fsutil::read_file(f), "secret\n");
  fs::create_symlink(f, t.path() / "link");
  EXPECT_FALSE(fsutil::write_new_file_unflushed(t.path() / "link", "x", 0644));
  EXPECT_EQ(*fsutil::read_file(f), "secret\n");
}

TEST(FsUtil, AFilesystemSyncNamesItsDirectoryWhenItCannotOpenOrFlush) {
  TempDir t;
  auto missing = fsutil::FilesystemSync::open(t.path() / "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find((t.path() / "nope").string()), std::string::npos) << missing.error().message;
  ASSERT_TRUE(fsutil::write_new_file_unflushed(t.path() / "plain", "x", 0644));
  auto not_dir = fsutil::FilesystemSync::open(t.path() / "plain");
  EXPECT_FALSE(not_dir);
  auto sync = fsutil::FilesystemSync::open(t.path());
  ASSERT_TRUE(sync) << sync.error().message;
  EXPECT_TRUE(sync->sync());
  FaultGuard g([](std::string_view p) { return p == "fsutil.syncfs"; });
  auto failed = sync->sync();
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find(t.path().string()), std::string::npos) << failed.error().message;
}

TEST(FsUtil, ReadRefusesSymlinkNonRegularAndOversize) {
  TempDir t;
  ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "f", std::string(100, 'x'), 0600));
  fs::create_symlink(t.path() / "f", t.path() / "l");
  auto r = fsutil::read_file(t.path() / "l");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
  auto big = fsutil::read_file(t.path() / "f", 99);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("larger than 99 bytes"), std::string::npos) << big.error().message;
  EXPECT_TRUE(fsutil::read_file(t.path() / "f", 100));
  EXPECT_FALSE(fsutil::read_file(t.path()));
  EXPECT_FALSE(fsutil::read_file("/dev/zero"));
}

TEST(FsUtil, PrivateDirIsCreated0700AndSymlinkRefused) {
  TempDir t;
  mode_t old = ::umask(0);
  ASSERT_TRUE(fsutil::make_private_dir(t.path() / "d"));
  ::umask(old);
  EXPECT_EQ(mode_of(t.path() / "d"), 0700u);
  EXPECT_TRUE(fsutil::make_private_dir(t.path() / "d"));  // existing is fine
  EXPECT_TRUE(fsutil::check_private_dir(t.path() / "d"));
  fs::create_symlink(t.path() / "d", t.path() / "l");
  auto r = fsutil::make_private_dir(t.path() / "l");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos);
  EXPECT_FALSE(fsutil::check_private_dir(t.path() / "l"));
  ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "f", "", 0600));
  EXPECT_FALSE(fsutil::make_private_dir(t.path() / "f"));
}

TEST(FsUtil, CheckPrivateDirRefusesWorldWritable) {
  TempDir t;
  ASSERT_TRUE(fsutil::make_private_dir(t.path() / "d"));
  ::chmod((t.path() / "d").c_str(), 0777);
  auto r = fsutil::check_private_dir(t.path() / "d");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("0777"), std::string::npos) << r.error().message;
}

TEST(FsUtil, TempNamesAreRecognised) {
  auto n = fsutil::temp_name("20250101T000000Z-0123456789abcdef");
  EXPECT_TRUE(fsutil::is_temp_name(n)) << n;
  EXPECT_NE(fsutil::temp_name("x"), fsutil::temp_name("x"));
  EXPECT_FALSE(fsutil::is_temp_name(".tmp-x"));
  EXPECT_FALSE(fsutil::is_temp_name("tmp-x-12-0123abcd"));
  EXPECT_FALSE(fsutil::is_temp_name(".tmp-x-1a-0123abcd"));
  EXPECT_FALSE(fsutil::is_temp_name(".tmp-x-12-0123abcg"));
}

TEST(FsUtil, ADirSyncBatchDefersEachDirectoryOnceAndOnlyOnItsThread) {
  TempDir t;
  fs::create_directory(t.path() / "a");
  fs::create_directory(t.path() / "b");
  {
    fsutil::DirSyncBatch batch;
    ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "a" / "1", "one", 0644));
    ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "a" / "2", "two", 0644));
    EXPECT_EQ(batch.pending(), 1u) << "one fsync for the directory, not one per file";
    {
      fsutil::DirSyncBatch inner;
      ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "b" / "3", "three", 0644));
      EXPECT_EQ(inner.pending(), 1u);
      EXPECT_EQ(batch.pending(), 1u) << "the innermost batch takes it";
    }
    std::size_t other_thread = 0;
    std::thread([&] {
      ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "b" / "4", "four", 0644));
      other_thread = batch.pending();
    }).join();
    EXPECT_EQ(other_thread, 1u) << "another thread's writes sync as always";
    EXPECT_EQ(*fsutil::read_file(t.path() / "a" / "2"), "two") << "the file is in place before the commit";
    ASSERT_TRUE(batch.commit());
    EXPECT_EQ(batch.pending(), 0u);
  }
  ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "a" / "5", "five", 0644)) << "no batch: synced at once";
  fs::remove_all(t.path() / "a");
  fsutil::DirSyncBatch gone;
  ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "b" / "6", "six", 0644));
  fs::remove_all(t.path() / "b");
  EXPECT_FALSE(gone.commit()) << "a directory that cannot be synced is reported by commit()";
}

std::size_t temporaries_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += fsutil::is_temp_name(e.path().filename().string()) ? 1 : 0;
  return n;
}

TEST(FsUtil, AOneSyncBatchPutsEveryFileInPlaceAtCommitInTheOrderWritten) {
  TempDir t;
  fs::create_directory(t.path() / "s");
  const auto a = t.path() / "s" / "a.json";
  ASSERT_TRUE(fsutil::write_file_atomic(a, "old a", 0644));
  {
    fsutil::DirSyncBatch batch(fsutil::DirSyncBatch::Files::OneSync);
    ASSERT_TRUE(fsutil::write_file_atomic(a, "first", 0644));
    ASSERT_TRUE(fsutil::write_file_atomic(a, "second", 0600));
    ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "s" / "b.json", "new b", 0644));
    EXPECT_EQ(*fsutil::read_file(a), "old a") << "nothing is in place before the commit";
    EXPECT_FALSE(fs::exists(t.path() / "s" / "b.json"));
    EXPECT_EQ(temporaries_in(t.path() / "s"), 3u);
    EXPECT_EQ(batch.pending(), 4u) << "three renames and one directory";
    ASSERT_TRUE(batch.commit());
    EXPECT_EQ(batch.pending(), 0u);
  }
  EXPECT_EQ(*fsutil::read_file(a), "second") << "the later write wins";
  EXPECT_EQ(mode_of(a), 0600u);
  EXPECT_EQ(*fsutil::read_file(t.path() / "s" / "b.json"), "new b");
  EXPECT_EQ(temporaries_in(t.path() / "s"), 0u);
}

TEST(FsUtil, AOneSyncBatchWhoseSyncOrRenameFailsKeepsTheOldContentAndNoTemporary) {
  for (const char* point : {"fsutil.syncfs", "write_file.before_rename"}) {
    TempDir t;
    const auto a = t.path() / "a", b = t.path() / "b";
    ASSERT_TRUE(fsutil::write_file_atomic(a, "old a", 0644));
    ASSERT_TRUE(fsutil::write_file_atomic(b, "old b", 0644));
    fsutil::DirSyncBatch batch(fsutil::DirSyncBatch::Files::OneSync);
    ASSERT_TRUE(fsutil::write_file_atomic(a, "new a", 0644));
    ASSERT_TRUE(fsutil::write_file_atomic(b, "new b", 0644));
    FaultGuard g([&](std::string_view p) { return p == point; });
    auto committed = batch.commit();
    ASSERT_FALSE(committed) << point;
    EXPECT_NE(committed.error().message.find("injected"), std::string::npos) << committed.error().message;
    EXPECT_EQ(*fsutil::read_file(a), "old a") << point;
    EXPECT_EQ(*fsutil::read_file(b), "old b") << point;
    EXPECT_EQ(temporaries_in(t.path()), 0u) << point;
  }
}

TEST(FsUtil, AKilledOneSyncBatchLeavesTheOldContentWholeAndOnlyTemporaries) {
  TempDir t;
  const auto a = t.path() / "a";
  ASSERT_TRUE(fsutil::write_file_atomic(a, "old a", 0644));
  int status = testing::run_in_child([&] {
    fsutil::DirSyncBatch batch(fsutil::DirSyncBatch::Files::OneSync);
    (void)fsutil::write_file_atomic(a, "new a", 0644);
    ::raise(SIGKILL);
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(*fsutil::read_file(a), "old a");
  EXPECT_EQ(temporaries_in(t.path()), 1u) << "the next pass sweeps it (Store::remove_stale_temporaries)";
}

}  // namespace
}  // namespace certagent::agent
