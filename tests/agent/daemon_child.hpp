#pragma once
// Runs the daemon loop in a forked child so that the tests can send it real signals. The
// child's pass reports to the parent through a pipe, one line per event ("pass timer", ...);
// the parent reads them with a timeout.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/daemon/daemon.hpp"

namespace certagent::agent::testing {

// What the child's pass does; `report` sends a line to the parent.
using TestPass = std::function<PassSummary(const PassRequest&, const std::function<void(const std::string&)>& report)>;

class DaemonChild {
 public:
  // `env` is set in the child before anything starts. With `through_run_agent` the child runs
  // run_agent() (which reads NOTIFY_SOCKET/WATCHDOG_USEC) instead of run_daemon().
  // run_agent() is given `state_dir` when it is not empty.
  DaemonChild(DaemonOptions options, TestPass pass, std::vector<std::pair<std::string, std::string>> env = {},
              bool through_run_agent = false, std::filesystem::path state_dir = {});
  ~DaemonChild();
  DaemonChild(const DaemonChild&) = delete;
  DaemonChild& operator=(const DaemonChild&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // The next line from the child, or nothing within `timeout`.
  [[nodiscard]] std::optional<std::string> next_line(std::chrono::milliseconds timeout);
  // Every line that arrives within `window`.
  [[nodiscard]] std::vector<std::string> lines_during(std::chrono::milliseconds window);
  void signal(int sig) const;
  // The child's exit code, or nothing when it is still running after `timeout` (then it is
  // killed by the destructor). A death by signal is reported as 128 + signal.
  [[nodiscard]] std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
};

// A summary that sleeps until `next_wake` and says so.
[[nodiscard]] PassSummary summary_waking_at(std::chrono::sys_seconds next_wake);

// Voluntary + involuntary context switches of every thread of `pid` (from /proc).
[[nodiscard]] long context_switches(pid_t pid);

}  // namespace certagent::agent::testing
