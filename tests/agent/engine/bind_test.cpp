#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/store.hpp"
#include "agent/store/verify.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using testing::make_cert;
using testing::TempDir;

struct Fixture {
  TempDir t;
  Store s = std::move(*Store::open(t.path(), {.write = true}));
  std::string a = add("a.example");
  std::string b = add("b.example");

  std::string add(const std::string& name) {
    auto c = make_cert({name});
    auto id = s.add_version({c.key_pem, c.leaf_pem, c.chain_pem, {}});
    EXPECT_TRUE(id) << id.error().message;
    return *id;
  }
  std::string bound(const std::string& purpose) {
    auto b = s.binding(purpose);
    return b && *b ? (*b)->version_id : "";
  }
};

const std::string kDefault[] = {"Default"};
const std::string kThree[] = {"Default", "WebServicesInternal", "WebServicesExternal"};

std::string read_at(int dirfd, const char* name) {
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(Bind, PointsEachPurposeAtTheVersionAndReturnsThePrevious) {
  Fixture f;
  auto first = f.s.bind(kThree, f.a);
  ASSERT_TRUE(first) << first.error().message;
  for (const auto& p : kThree) {
    EXPECT_EQ((*first)[p], "");
    EXPECT_EQ(fs::read_symlink(f.t.path() / "live" / p), fs::path("../certs") / f.a);
    EXPECT_EQ(f.bound(p), f.a);
  }
  auto second = f.s.bind(kDefault, f.b);
  ASSERT_TRUE(second);
  EXPECT_EQ((*second)["Default"], f.a);
  EXPECT_EQ(f.bound("Default"), f.b);
  EXPECT_EQ(f.bound("WebServicesExternal"), f.a);
  auto inv = f.s.inventory();
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->bindings.size(), 3u);
  EXPECT_TRUE(inv->problems.empty());
  std::ifstream through_link(f.s.live_path("Default") / "cert.pem");
  std::string first_line;
  std::getline(through_link, first_line);
  EXPECT_EQ(first_line, "-----BEGIN CERTIFICATE-----") << "consumers read through the link's directory";
}

TEST(Bind, RefusesToReplaceWhatTheStoreDidNotMake) {
  Fixture f;
  auto live = f.t.path() / "live";
  fs::create_directory(live / "Default");
  ASSERT_TRUE(fsutil::write_file_atomic(live / "WebServicesInternal", "operator's notes", 0600));
  fs::create_symlink("/etc/ssl/certs", live / "WebServicesExternal");
  for (const auto& p : kThree) {
    const std::string one[] = {p};
    auto r = f.s.bind(one, f.a);
    ASSERT_FALSE(r) << p;
    EXPECT_NE(r.error().message.find("left untouched"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(fs::is_directory(live / "Default"));
  EXPECT_EQ(*fsutil::read_file(live / "WebServicesInternal"), "operator's notes");
  EXPECT_EQ(fs::read_symlink(live / "WebServicesExternal"), "/etc/ssl/certs");
  auto inv = f.s.inventory();
  ASSERT_TRUE(inv);
  EXPECT_TRUE(inv->bindings.empty());
  EXPECT_EQ(inv->problems.size(), 3u);
}

TEST(Bind, RefusesAVersionWhoseKeyDoesNotMatchAndKeepsTheOldBinding) {
  Fixture f;
  ASSERT_TRUE(f.s.bind(kDefault, f.a));
  fs::copy_file(f.t.path() / "certs" / f.a / "privkey.pem", f.t.path() / "certs" / f.b / "privkey.pem",
                fs::copy_options::overwrite_existing);
  auto r = f.s.bind(kDefault, f.b);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not belong"), std::string::npos) << r.error().message;
  EXPECT_EQ(f.bound("Default"), f.a);
}

TEST(Bind, RefusesBadPurposeNamesAndUnknownVersions) {
  Fixture f;
  const std::string bad[] = {"../certs"};
  EXPECT_FALSE(f.s.bind(bad, f.a));
  EXPECT_FALSE(f.s.bind(kDefault, "20250101T000000Z-0000000000000000"));
  EXPECT_FALSE(f.s.bind(kDefault, "../../etc"));
  EXPECT_TRUE(fs::is_empty(f.t.path() / "live"));
}

TEST(Bind, DanglingBindingIsReportedNotFatal) {
  Fixture f;
  ASSERT_TRUE(f.s.bind(kDefault, f.a));
  fs::rename(f.t.path() / "certs" / f.a, f.t.path() / "moved-away");
  auto inv = f.s.inventory();
  ASSERT_TRUE(inv) << inv.error().message;
  ASSERT_EQ(inv->bindings.size(), 1u);
  EXPECT_FALSE(inv->bindings[0].complete);
  ASSERT_EQ(inv->problems.size(), 1u);
  EXPECT_NE(inv->problems[0].what.find("missing or incomplete"), std::string::npos);
  EXPECT_TRUE(f.s.bind(kDefault, f.b)) << "a dangling binding can be repaired by binding again";
}

TEST(Bind, TheInventoryJudgesEachBindingByTheVersionsItsScanLoaded) {
  Fixture f;
  const std::string internal[] = {"WebServicesInternal"};
  ASSERT_TRUE(f.s.bind(kDefault, f.a));
  ASSERT_TRUE(f.s.bind(internal, f.b));
  std::ofstream(f.t.path() / "certs" / f.a / "meta.json", std::ios::trunc) << "{not json";
  auto inv = f.s.inventory();
  ASSERT_TRUE(inv) << inv.error().message;
  ASSERT_EQ(inv->versions.size(), 1u);
  ASSERT_EQ(inv->bindings.size(), 2u);
  EXPECT_EQ(inv->bindings[0].purpose, "Default");
  EXPECT_EQ(inv->bindings[0].version_id, f.a);
  EXPECT_FALSE(inv->bindings[0].complete) << "its version was skipped: unreadable meta.json";
  EXPECT_EQ(inv->bindings[1].version_id, f.b);
  EXPECT_TRUE(inv->bindings[1].complete);
  ASSERT_EQ(inv->problems.size(), 2u);  // the version, and the binding to it
  EXPECT_NE(inv->problems[1].what.find("bound to version " + f.a + ", which is missing or incomplete"),
            std::string::npos);
  auto single = f.s.binding("Default");
  ASSERT_TRUE(single && *single);
  EXPECT_FALSE((*single)->complete) << "binding() agrees with the inventory";
}

TEST(Bind, UnbindRemovesOnlyTheLink) {
  Fixture f;
  ASSERT_TRUE(f.s.bind(kThree, f.a));
  ASSERT_TRUE(f.s.unbind(kDefault));
  EXPECT_EQ(f.bound("Default"), "");
  EXPECT_EQ(f.bound("WebServicesInternal"), f.a);
  EXPECT_TRUE(f.s.load_version(f.a));
}

// A reader resolves live/Default once (as a consumer opening the directory
// does) while a child switches it back and forth: every pair it reads
// matches, and the link always names a complete version.
TEST(Bind, SwitchIsAtomicForReaders) {
  Fixture f;
  ASSERT_TRUE(f.s.bind(kDefault, f.a));
  auto dir = f.t.path();
  f.s = std::move(*Store::open(dir));  // drop the writer lock before forking the writer
  pid_t child = ::fork();
  if (child == 0) {
    auto w = Store::open(dir, {.write = true, .lock_wait = std::chrono::seconds(10)});
    for (int i = 0; i < 150 && w; ++i)
      if (!w->bind(kDefault, i % 2 ? f.a : f.b)) ::_exit(2);
    ::_exit(w ? 0 : 3);
  }
  int reads = 0, mismatches = 0, incomplete = 0;
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    int d = ::open((dir / "live" / "Default").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(d, 0);
    auto cert = read_at(d, "cert.pem");
    auto key = read_at(d, "privkey.pem");
    ::close(d);
    auto target = fs::read_symlink(dir / "live" / "Default").filename().string();
    if (!f.s.load_version(target)) ++incomplete;
    if (!check_key_matches(key, cert)) ++mismatches;
    ++reads;
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_GT(reads, 10);
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(incomplete, 0);
}

TEST(Bind, SigkillDuringRebindLeavesOldOrNewBindingWhole) {
  for (const char* point : {"store.bind.before_rename", "store.bind.after_rename"}) {
    Fixture f;
    ASSERT_TRUE(f.s.bind(kThree, f.a));
    auto dir = f.t.path();
    f.s = std::move(*Store::open(dir));
    int status = testing::run_in_child([&] {
      auto w = Store::open(dir, {.write = true});
      set_fault_injector([&](std::string_view p) {
        if (p == point) ::raise(SIGKILL);
        return false;
      });
      (void)w->bind(kThree, f.b);
    });
    ASSERT_TRUE(WIFSIGNALED(status)) << point;
    auto s = std::move(*Store::open(dir, {.write = true}));
    auto inv = s.inventory();
    ASSERT_TRUE(inv);
    ASSERT_EQ(inv->bindings.size(), 3u);
    for (const auto& b : inv->bindings) {
      EXPECT_TRUE(b.version_id == f.a || b.version_id == f.b) << point;
      EXPECT_TRUE(s.verify_version(b.version_id)) << point;
    }
    EXPECT_EQ(inv->bindings[0].version_id, std::string(point).ends_with("before_rename") ? f.a : f.b)
        << "Default is switched first";
    auto removed = s.remove_stale_temporaries(std::chrono::seconds(0));
    ASSERT_TRUE(removed);
    EXPECT_EQ(removed->size(), std::string(point).ends_with("before_rename") ? 1u : 0u) << point;
    EXPECT_TRUE(s.inventory()->problems.empty());
  }
}

TEST(Bind, StaleTemporariesAreRemovedOnlyWhenOursAndOld) {
  Fixture f;
  auto certs = f.t.path() / "certs";
  auto old_tmp = certs / fsutil::temp_name(f.a);
  auto new_tmp = certs / fsutil::temp_name(f.b);
  fs::create_directory(old_tmp);
  ASSERT_TRUE(fsutil::write_new_file(old_tmp / "privkey.pem", "half", 0600));
  fs::create_directory(new_tmp);
  fs::create_directory(certs / ".tmp-not-ours");
  auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(old_tmp, two_hours_ago);
  fs::last_write_time(certs / ".tmp-not-ours", two_hours_ago);
  auto removed = f.s.remove_stale_temporaries(std::chrono::hours(1));
  ASSERT_TRUE(removed) << removed.error().message;
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_EQ((*removed)[0], old_tmp);
  EXPECT_FALSE(fs::exists(old_tmp));
  EXPECT_TRUE(fs::exists(new_tmp));
  EXPECT_TRUE(fs::exists(certs / ".tmp-not-ours"));
  auto r = Store::open(f.t.path())->remove_stale_temporaries(std::chrono::hours(1));
  EXPECT_FALSE(r) << "needs the writer lock";
}

}  // namespace
}  // namespace certagent::agent
