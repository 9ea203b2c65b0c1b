// Environment faults against the real `certagent run --once`: a full disk
// while the store writes (a small tmpfs as the state directory), a read-only
// state directory (a read-only bind mount: chmod does not stop root), an
// unresolvable CA host, a CA whose TLS certificate is not trusted and an
// http:// directory. Each: a clear error, the previously bound certificate
// untouched, the store still loads, and the next run after the fault is gone
// finishes. Also two real agents started at once on one state directory.
//
// Each fault runs CERTAGENT_ENV_FAULT_ITERATIONS times (default 2, so that
// `scripts/test` stays short; issue 8 asks for 20), each time on a fresh state
// directory, and prints "ENV-FAULT <name>: N runs, F failed, D data lost".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <ostream>

#include "kill_support.hpp"

namespace certagent::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
namespace fs = std::filesystem;

// A mount that is undone (lazily) when the test ends, pass or fail.
class Mount {
 public:
  Mount(const fs::path& target, std::string what) : target_(target), what_(std::move(what)) {}
  ~Mount() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
  }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  // "" on success, else why (the test fails with it: these faults are never skipped).
  std::string tmpfs(const std::string& options) {
    return done(::mount("tmpfs", target_.c_str(), "tmpfs", 0, options.c_str()));
  }
  std::string bind_read_only() {
    if (auto e = done(::mount(target_.c_str(), target_.c_str(), nullptr, MS_BIND, nullptr)); !e.empty()) return e;
    return checked(::mount(nullptr, target_.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr));
  }
  void unmount() {
    if (mounted_ && ::umount2(target_.c_str(), MNT_DETACH) == 0) mounted_ = false;
  }

 private:
  std::string done(int rc) {
    if (rc == 0) mounted_ = true;
    return checked(rc);
  }
  std::string checked(int rc) const {
    if (rc == 0) return "";
    return fmt::format("cannot mount {} on {}: {} (this test needs root with CAP_SYS_ADMIN; it is never skipped)",
                       what_, target_.string(), std::strerror(errno));
  }
  fs::path target_;
  std::string what_;
  bool mounted_ = false;
};

// Issues the first certificate (names with "base.example"), then writes a
// policy that needs a reissue; returns the bound thumbprint.
std::string bound_then_due(const EngineSandbox& box, PoolPolicy due) {
  box.write_policy(pool_with("base.example", box.make_hook("hook")));
  auto first = box.certagent({"run", "--once"});
  EXPECT_EQ(first.exit_code, 0) << outcome_text(first);
  const std::string old = thumbprint_of(box.certs().at("Default"));
  EXPECT_EQ(old.size(), 40u);
  box.write_policy(due);
  return old;
}

// True when the store loads and every purpose is still bound to `old` (false: data lost).
bool expect_old_still_bound(const EngineSandbox& box, const std::string& old) {
  auto check = check_store(box, true, old);
  EXPECT_THAT(check.failures, IsEmpty());
  bool intact = check.failures.empty();
  for (const auto& t : check.thumbprints) {
    EXPECT_EQ(t, old) << "the previously bound certificate is untouched";
    intact = intact && t == old;
  }
  return intact;
}

// The failed assertions of the running test so far.
int failed_parts() {
  const auto* r = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < r->total_part_count(); ++i) n += r->GetTestPartResult(i).failed() ? 1 : 0;
  return n;
}

// Runs `once(i)` (true: no data lost) CERTAGENT_ENV_FAULT_ITERATIONS times and prints the tally.
template <typename Once>
void repeat_fault(const std::string& name, Once once) {
  const std::size_t runs = count_from_env("CERTAGENT_ENV_FAULT_ITERATIONS", 2);
  std::size_t failed = 0, lost = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < runs; ++i) {
    SCOPED_TRACE(fmt::format("{} run {}", name, i));
    const int before = failed_parts();
    lost += once(i) ? 0 : 1;
    failed += failed_parts() > before ? 1 : 0;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("ENV-FAULT {}: {} runs, {} failed, {} data lost, {:.1f} s\n", name, runs, failed, lost,
                           seconds);
}

std::uint64_t free_bytes(const fs::path& p) {
  struct statvfs s {};
  if (::statvfs(p.c_str(), &s) != 0) return 0;
  return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
}

bool disk_full_once() {
  EngineSandbox box;
  fs::create_directories(box.state());
  Mount m(box.state(), "a 1 MiB tmpfs");
  if (auto e = m.tmpfs("size=1m,mode=0700"); !e.empty()) {
    ADD_FAILURE() << e;
    return false;
  }
  const std::string hook = box.make_hook("hook");
  const std::string old = bound_then_due(box, pool_with("full.example", hook));

  // Room for the order journal (one page) but not for the five files of a version.
  const std::uint64_t leave = 12 * 1024;
  const std::uint64_t avail = free_bytes(box.state());
  if (avail <= leave) {
    ADD_FAILURE() << "only " << avail << " bytes free";
    return false;
  }
  std::ofstream(box.state() / "filler", std::ios::binary) << std::string(avail - leave, 'x');
  const auto orders_before = new_order_count(box.pebble());
  auto full = box.certagent({"run", "--once"});
  EXPECT_EQ(full.exit_code, 1) << outcome_text(full);
  EXPECT_THAT(full.err, HasSubstr("No space left on device")) << full.err;
  EXPECT_THAT(full.err, HasSubstr("storing")) << "the store write is what failed: " << full.err;
  const bool intact = expect_old_still_bound(box, old);
  for (const auto& e : fs::recursive_directory_iterator(box.state() / "certs"))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();

  fs::remove(box.state() / "filler");
  // The failure backs off (a minute); `run --now` is the operator's "retry now" once space is freed.
  auto backing_off = box.certagent({"run", "--once"});
  EXPECT_THAT(backing_off.err, HasSubstr("skipped, backing off")) << outcome_text(backing_off);
  auto next = box.certagent({"run", "--once", "--now"});
  EXPECT_EQ(next.exit_code, 0) << outcome_text(next);
  EXPECT_THAT(next.err, HasSubstr("retrying at once (run --now) instead of backing off")) << next.err;
  EXPECT_THAT(next.err, HasSubstr("resuming order"));
  EXPECT_EQ(new_order_count(box.pebble()) - orders_before, 1u) << "the journaled order is finished, not placed again";
  auto done = check_store(box, true, old);
  EXPECT_THAT(done.failures, IsEmpty());
  EXPECT_NE(done.thumbprints[0], old);
  return intact && done.failures.empty();
}

TEST(EnvFaults, DiskFullWhileStoringTheNewVersionKeepsTheOldBoundAndTheNextRunResumesTheOrder) {
  repeat_fault("disk_full", [](std::size_t) { return disk_full_once(); });
}

bool read_only_once() {
  EngineSandbox box;
  const std::string hook = box.make_hook("hook");
  const std::string old = bound_then_due(box, pool_with("ro.example", hook));
  Mount m(box.state(), "a read-only bind mount");
  if (auto e = m.bind_read_only(); !e.empty()) {
    ADD_FAILURE() << e;
    return false;
  }
  const auto orders_before = new_order_count(box.pebble());
  auto ro = box.certagent({"run", "--once"});
  EXPECT_EQ(ro.exit_code, 1) << outcome_text(ro);
  EXPECT_THAT(ro.err, HasSubstr("Read-only file system")) << ro.err;
  EXPECT_THAT(ro.err, HasSubstr(box.state().string())) << ro.err;
  EXPECT_EQ(new_order_count(box.pebble()), orders_before) << "nothing ordered that could not be stored";
  const bool intact = expect_old_still_bound(box, old);  // certs and status work on a read-only directory

  m.unmount();
  auto next = box.certagent({"run", "--once"});
  EXPECT_EQ(next.exit_code, 0) << outcome_text(next);
  EXPECT_NE(thumbprint_of(box.certs().at("Default")), old);
  return intact;
}

TEST(EnvFaults, AReadOnlyStateDirectoryIsAClearErrorAndNothingChanges) {
  repeat_fault("read_only", [](std::size_t) { return read_only_once(); });
}

struct CaFault {
  const char* name;
  std::string directory;  // "" : the fixture's pebble
  bool trust_pebble;
  int exit_code;
  const char* error;
};

// gtest prints the parameter in test names and failures ("…-byte object <…>" without it).
void PrintTo(const CaFault& f, std::ostream* os) {
  *os << f.name << " (directory " << (f.directory.empty() ? "pebble's" : f.directory) << ", exit " << f.exit_code
      << ")";
}

bool ca_fault_once(const CaFault& f) {
  EngineSandbox box;
  PoolPolicy due = pool_with("ca-fault.example", box.make_hook("hook"));
  due.directory = f.directory;
  due.trust_pebble = f.trust_pebble;
  const std::string old = bound_then_due(box, due);
  const auto orders_before = new_order_count(box.pebble());
  auto r = box.certagent({"run", "--once"});
  EXPECT_EQ(r.exit_code, f.exit_code) << outcome_text(r);
  EXPECT_THAT(r.err, HasSubstr(f.error)) << r.err;
  EXPECT_LT(r.elapsed, std::chrono::seconds(30)) << "no hang";
  EXPECT_EQ(new_order_count(box.pebble()), orders_before);
  box.write_policy(pool_with("base.example", box.make_hook("hook")));  // `certs` needs a valid policy
  return expect_old_still_bound(box, old);
}

class CaEnvFaults : public ::testing::TestWithParam<CaFault> {};

TEST_P(CaEnvFaults, ClearErrorInBoundedTimeAndTheOldCertificateStaysBound) {
  const CaFault f = GetParam();
  repeat_fault(f.name, [&f](std::size_t) { return ca_fault_once(f); });
}

INSTANTIATE_TEST_SUITE_P(
    Faults, CaEnvFaults,
    ::testing::Values(CaFault{"unresolvable_host", "https://nonexistent.invalid/dir", true, 1, "nonexistent.invalid"},
                      CaFault{"untrusted_tls", "", false, 1, "TLS verification failed"},
                      CaFault{"plain_http", "http://127.0.0.1:1/dir", true, 2, "https://"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(EnvFaults, TwoAgentsStartedAtOnceOnOneStateDirectoryPlaceOneOrder) {
  EngineSandbox box;
  const std::string hook = box.make_hook("hook");
  box.write_policy(pool_with("base.example", hook));
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  const std::size_t rounds = count_from_env("CERTAGENT_TWO_AGENTS_ROUNDS", 3);
  std::size_t one_order = 0, refused = 0;
  for (std::size_t i = 0; i < rounds; ++i) {
    SCOPED_TRACE(fmt::format("round {}", i));
    box.write_policy(pool_with(fmt::format("two{}.example", i), hook));
    const auto orders_before = new_order_count(box.pebble());
    auto a = std::async(std::launch::async, [&] { return box.certagent({"run", "--once"}); });
    auto b = std::async(std::launch::async, [&] { return box.certagent({"run", "--once"}); });
    const ProcessOutcome ra = a.get(), rb = b.get();
    EXPECT_EQ(new_order_count(box.pebble()) - orders_before, 1u) << "exactly one order for the due certificate";
    one_order += new_order_count(box.pebble()) - orders_before == 1u ? 1 : 0;
    refused += (ra.exit_code == 1) + (rb.exit_code == 1);
    const int ok = (ra.exit_code == 0) + (rb.exit_code == 0);
    EXPECT_GE(ok, 1) << outcome_text(ra) << "\n" << outcome_text(rb);
    for (const auto* r : {&ra, &rb})
      if (r->exit_code != 0) {
        EXPECT_EQ(r->exit_code, 1) << outcome_text(*r);
        // "(pid N)" too, unless it lost the race before the holder wrote its pid.
        EXPECT_THAT(r->err, HasSubstr("another certagent")) << r->err;
        EXPECT_THAT(r->err, HasSubstr((box.state() / "lock").string())) << r->err;
      }
    auto check = check_store(box, true, "");
    EXPECT_THAT(check.failures, IsEmpty());
  }
  std::cout << fmt::format("TWO-AGENTS: {} rounds, {} with exactly one order, {} second agents refused\n", rounds,
                           one_order, refused);
}

}  // namespace
}  // namespace certagent::integration
