#pragma once
// The daemon loop of `certagent run`: one thread that sleeps until the earliest due time and
// wakes for SIGHUP, a change of the policy file and SIGTERM/SIGINT; the pass itself (the
// engine, agent/engine/pass_types.hpp) runs on a worker thread, never two at a time.
//
//  - Timer: a steady timer set to the pass's next_wake, at most `max_sleep` ahead (so a jump
//    of the wall clock is noticed within a day) and at least `min_sleep` (so a pass that keeps
//    saying "due now" cannot spin). Woken before next_wake by the wall clock, it sleeps again.
//  - SIGHUP: a Reload pass. A change in the policy file's directory that names the file
//    (written, renamed over, created, removed; editors write a temporary and rename it) starts
//    a PolicyChanged pass once the directory has been quiet for `debounce`.
//  - A trigger while a pass runs queues one more pass (PolicyChanged/Reload win over Timer).
//  - SIGTERM/SIGINT: STOPPING=1, the cancel flag is set, the running pass is awaited (it
//    finishes its file write and abandons the network step), exit 0. A pass still running
//    after `stop_grace` is abandoned: the result says so and the caller should _Exit.
//  - systemd: READY=1 after the first pass, STATUS= after every pass, WATCHDOG=1 at half the
//    watchdog interval — unless a pass has run longer than `pass_stall_limit`, so that
//    systemd restarts an agent whose pass hangs.
// No other wake-ups: an idle daemon with no watchdog sleeps in epoll_wait until a due time.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "agent/engine/pass_types.hpp"
#include "agent/daemon/metrics_server.hpp"
#include "agent/daemon/sd_notify.hpp"

namespace certagent::agent {

// The name of the thread that runs a pass (and of the threads it starts), as /proc and `top -H` show it.
inline constexpr const char* kPassThreadName = "certagent-pass";

struct DaemonOptions {
  std::filesystem::path policy_file;                  // its directory is watched; empty: no watch
  std::filesystem::path state_dir;                    // its pool.json feeds the pool metrics; empty: none
  bool once = false;                                  // one Startup pass, then exit (run --once)
  bool retry_now = false;                             // the Startup pass lifts back-off waits (run --now)
  std::optional<ListenAddress> metrics;               // serve /metrics here
  std::function<void(std::uint16_t port)> on_metrics_listening;  // the bound port (port 0: tests)
  std::optional<std::chrono::microseconds> watchdog;  // $WATCHDOG_USEC
  std::chrono::seconds max_sleep{24 * 3600};
  std::chrono::seconds min_sleep{1};
  std::chrono::milliseconds debounce{200};
  std::chrono::milliseconds stop_grace{20'000};
  std::chrono::seconds pass_stall_limit{3600};
};

struct DaemonResult {
  int exit_code = 0;                  // kExit* of agent/engine/options.hpp
  bool pass_abandoned = false;        // a pass ignored the cancel flag; the process must _Exit now
  unsigned passes = 0;
};

// Runs until SIGTERM/SIGINT (or after one pass with `once`). Returns kExitOk on a stop by
// signal, kExitFailed when it cannot start (metrics address in use, signals), and for `once`
// the code of once_exit_code() (kExitFailed when a signal cut it short).
[[nodiscard]] DaemonResult run_daemon(const DaemonOptions& options, const PassFn& pass, const Notifier& notifier);

// run --once: 2 invalid policy, 1 a failed action, 3 a purpose unbound/expired/incomplete, 0 done.
[[nodiscard]] int once_exit_code(const PassSummary& summary);

// How long to sleep for a pass's next_wake at wall-clock `now`: clamped to [min, max];
// `max` when nothing is scheduled.
[[nodiscard]] std::chrono::milliseconds sleep_duration(std::optional<std::chrono::sys_seconds> next_wake,
                                                       std::chrono::system_clock::time_point now,
                                                       std::chrono::seconds min, std::chrono::seconds max);

// Which of two queued triggers to keep: PolicyChanged > Reload > Timer > Startup.
[[nodiscard]] WakeReason merge_reasons(WakeReason queued, WakeReason incoming);

}  // namespace certagent::agent
