// The SIGKILL sweep: the real `certagent run --once` against pebble, killed at
// each step of an issuance and of a rebind (CERTAGENT_FAULT_KILL=<point>, or a
// hook that kills its agent), again and again on one state directory. After
// every kill: the store loads, every binding is a complete version whose key
// matches its certificate, every purpose is still bound — to the old
// certificate, or (once the rebind began) to the whole new one — and the next
// run finishes without a second order, binds every purpose to the current
// certificate and tells every purpose's consumer about it.
//
// CERTAGENT_KILL_SWEEP_ITERATIONS=20 for the full sweep (about 3 minutes for
// all points); the default, 5, keeps `scripts/test` short.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <ostream>

#include "agent/store/order_journal.hpp"
#include "kill_support.hpp"

namespace certagent::integration {
namespace {

struct KillPoint {
  const char* point;       // a fault point, or "hook" (the hook kills its agent)
  bool rebind_began;       // purposes may already be on the new certificate
  const char* resumed_by = nullptr;  // what the next run's log must say, if anything
  const char* torn_in = nullptr;     // a write_file point: the state subdirectory holding the torn .tmp- file
  int journaled = -1;  // after the kill the order journal holds: 0 nothing, 1 the intent, 2 + the order URL,
                       // 3 + the key; -1 not checked
  const char* key = nullptr;  // the policy's `key` ("rsa-3072"); nullptr: the default, an EC key
};

// What the order journal holds (see KillPoint::journaled), or -2 when it cannot be read.
int journal_stage(const std::filesystem::path& state) {
  auto j = agent::read_order_journal(state, "front-end");
  if (!j) return -2;
  if (!*j) return 0;
  return (*j)->order_url.empty() ? 1 : (*j)->key_pem.empty() ? 2 : 3;
}

// Whether a certagent temporary (".tmp-…") is under `dir`.
bool has_temporary(const std::filesystem::path& dir) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != decltype(it){}; it.increment(ec))
    if (it->path().filename().string().starts_with(".tmp-")) return true;
  return false;
}

// gtest prints the parameter in test names and failures ("24-byte object <…>" without it).
void PrintTo(const KillPoint& kp, std::ostream* os) {
  *os << kp.point << (kp.key != nullptr ? std::string(" ") + kp.key : "") << (kp.rebind_began ? " (rebind began)" : "");
}

// The hook: logs "PURPOSE ACTION OLD NEW" for each purpose it tells; when armed, kills its agent (as
// SIGKILL of the service would, the hook with it) and does not log.
std::string write_sweep_hook(const EngineSandbox& box) {
  const auto dir = box.dir();
  const auto script = dir / "sweep-hook";
  std::ofstream(script) << "#!/bin/sh\n"
                        << "if [ -e '" << (dir / "arm").string() << "' ]; then rm -f '" << (dir / "arm").string()
                        << "'; kill -9 $PPID; exit 1; fi\n"
                        << "for p in $CERTAGENT_PURPOSES; do echo \"$p $CERTAGENT_ACTION $CERTAGENT_OLD_THUMBPRINT "
                           "$CERTAGENT_NEW_THUMBPRINT\"; done >> '"
                        << (dir / "hooks.log").string() << "'\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  return script.string();
}

// The thumbprint the last "bind" line of `purpose` announced.
std::string last_announced(const std::vector<std::string>& log, const std::string& purpose) {
  std::string out;
  for (const auto& line : log)
    if (line.starts_with(purpose + " bind ")) out = line.substr(line.rfind(' ') + 1);
  return out;
}

class KillSweep : public ::testing::TestWithParam<KillPoint> {};

TEST_P(KillSweep, StoreStaysWholeOldStaysBoundAndTheResumedRunPlacesNoSecondOrder) {
  const KillPoint kp = GetParam();
  const std::size_t iterations = count_from_env("CERTAGENT_KILL_SWEEP_ITERATIONS", 5);
  EngineSandbox box;
  const std::string hook = write_sweep_hook(box);
  auto policy_for = [&](const std::string& domain) {
    PoolPolicy p = pool_with(domain, hook);
    if (kp.key != nullptr) p.key = kp.key;
    return p;
  };
  box.write_policy(policy_for("base.example"));
  auto first = box.certagent({"run", "--once"});
  ASSERT_EQ(first.exit_code, 0) << outcome_text(first);

  const std::vector<std::string> kill_env =
      kp.point == std::string("hook") ? std::vector<std::string>{} : std::vector<std::string>{
                                                                          std::string("CERTAGENT_FAULT_KILL=") + kp.point};
  std::size_t kills = 0, extra_orders = 0, store_failures = 0, key_mismatches = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < iterations; ++i) {
    SCOPED_TRACE(fmt::format("{} iteration {}", kp.point, i));
    box.write_policy(policy_for(fmt::format("i{}.example", i)));  // new names: a reissue is due
    const std::string old = thumbprint_of(box.certs().at("Default"));
    const auto orders_before = new_order_count(box.pebble());
    if (kp.point == std::string("hook")) std::ofstream(box.dir() / "arm") << "";

    auto killed = box.certagent({"run", "--once"}, kill_env);
    ASSERT_EQ(killed.signal, SIGKILL) << "the kill point was never reached: " << outcome_text(killed);
    ++kills;
    if (kp.torn_in != nullptr) {
      EXPECT_TRUE(has_temporary(box.state() / kp.torn_in)) << "the kill tore a write in " << kp.torn_in;
    }
    if (kp.journaled >= 0) {
      EXPECT_EQ(journal_stage(box.state()), kp.journaled) << "the step the kill interrupted";
    }
    auto after_kill = check_store(box, true, old);
    EXPECT_THAT(after_kill.failures, ::testing::IsEmpty());
    store_failures += after_kill.failures.empty() ? 0 : 1;
    key_mismatches += after_kill.verify_failures;
    if (!kp.rebind_began) {
      for (const auto& t : after_kill.thumbprints) {
        EXPECT_EQ(t, old) << "the old certificate stays bound until the new one is";
      }
    }

    auto next = box.certagent({"run", "--once"});
    ASSERT_EQ(next.exit_code, 0) << outcome_text(next);
    const auto orders = new_order_count(box.pebble()) - orders_before;
    EXPECT_EQ(orders, 1u) << "orders for this reissue, killed run and resumed run together: never a second\n"
                                 << "killed run:\n" << killed.err << "\nnext run:\n" << next.err;
    extra_orders += orders > 1 ? orders - 1 : 0;
    if (kp.resumed_by != nullptr) {
      EXPECT_THAT(next.err, ::testing::HasSubstr(kp.resumed_by));
    }

    auto done = check_store(box, true, old);
    EXPECT_THAT(done.failures, ::testing::IsEmpty());
    store_failures += done.failures.empty() ? 0 : 1;
    key_mismatches += done.verify_failures;
    const auto log = box.hook_log();
    for (std::size_t p = 0; p < kPurposes.size(); ++p) {
      EXPECT_NE(done.thumbprints[p], old) << kPurposes[p] << " is on the new certificate";
      EXPECT_EQ(done.thumbprints[p], done.thumbprints[0]) << kPurposes[p];
      EXPECT_EQ(last_announced(log, kPurposes[p]), done.thumbprints[p]) << kPurposes[p] << "'s hook was told";
    }
    EXPECT_FALSE(std::filesystem::exists(box.state() / "orders" / "front-end.json")) << "no journal left behind";
    EXPECT_FALSE(std::filesystem::exists(box.state() / "notify" / "Default")) << "no hooks still owed";
    for (const auto& e : std::filesystem::recursive_directory_iterator(box.state()))
      EXPECT_FALSE(e.path().filename().string().starts_with(".tmp-")) << "the next run removes " << e.path();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("KILL-SWEEP {}{}: {}/{} kills, store-load failures {}, key mismatches {}, extra orders {}, "
                           "{:.1f} s\n", kp.point, kp.key != nullptr ? std::string(" ") + kp.key : "", kills, iterations, store_failures, key_mismatches, extra_orders,
                           seconds);
}

std::string point_name(const ::testing::TestParamInfo<KillPoint>& info) {
  std::string s = info.param.point;
  if (info.param.key != nullptr) s += std::string("_") + info.param.key;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Points, KillSweep,
    ::testing::Values(
        // The first file write of the run: the intent, half written (the CA directory note,
        // ari/ca.json, is rewritten at most hourly, and the sandbox's first run has just written
        // it): nothing was ordered; the next run orders.
        KillPoint{"write_file.mid_write", false, nullptr, "orders", 0},
        KillPoint{"engine.order.after_intent", false, "no order for the journaled intent", nullptr, 1},
        // The second: the order's URL with the new (EC) certificate key, after newOrder, half
        // written: the journal holds only the intent, and the next run finds the order in the
        // account's orders list.
        KillPoint{"write_file.mid_write@2", false, "found in the account's orders list", "orders", 1},
        // An EC key is journaled with the order's URL: both points follow that one write.
        KillPoint{"engine.order.after_new_order", false, "resuming order", nullptr, 3},
        KillPoint{"engine.order.after_key", false, "resuming order", nullptr, 3},
        KillPoint{"engine.order.before_finalize", false, "resuming order", nullptr, 3},
        KillPoint{"engine.order.after_finalize", false, "resuming order", nullptr, 3},
        KillPoint{"engine.order.after_download", false, "resuming order", nullptr, 3},
        // The third (no journal write of the key's own with an EC key): privkey.pem of the new
        // version, half written.
        KillPoint{"write_file.mid_write@3", false, "resuming order", "certs", 3},
        // An RSA key, generated on another thread, is not there yet when the order's URL is
        // journaled (newOrder takes milliseconds, an RSA-3072 key about half a second): it is
        // journaled on its own before finalize. The third write, half written, leaves the order
        // without a key; the next run resumes it with a new key.
        KillPoint{"write_file.mid_write@3", false, "resuming order", "orders", 2, "rsa-3072"},
        KillPoint{"engine.order.after_key", false, "resuming order", nullptr, 3, "rsa-3072"},
        KillPoint{"store.version.after_cert.pem", false, "resuming order", nullptr, 3},
        KillPoint{"store.version.before_rename", false, "resuming order", nullptr, 3},
        KillPoint{"store.bind.before_rename", false}, KillPoint{"store.bind.after_rename", true},
        KillPoint{"rebind.after_bind", true}, KillPoint{"rebind.after_purpose", true}, KillPoint{"hook", true}),
    point_name);

}  // namespace
}  // namespace certagent::integration
