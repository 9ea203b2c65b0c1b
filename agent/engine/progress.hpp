#pragma once
// A line in the log every so often while a pass works through many certificates or waits on a
// silent CA (issue 26 item 4): how many are done, how many failed, and which are in progress and
// for how long — so neither the journal nor a terminal running `run --once` stays quiet for
// minutes. Nothing is logged when the work ends within the first interval.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace certagent::agent {

// The state of a batch of attempts, shared by its workers (which mark their job started and
// ended) and the reporter (which reads it). Job i's name is names[i]; fixed for the batch.
class BatchProgress {
 public:
  explicit BatchProgress(std::vector<std::string> names);
  void started(std::size_t i);
  void ended(std::size_t i, bool failed);
  // "7 of 40 done (1 failed), 4 in progress: web-8 (for 12s), web-9 (for 12s), ..."
  [[nodiscard]] std::string describe() const;

 private:
  std::vector<std::string> names_;
  std::vector<std::atomic<std::int64_t>> started_ns_;  // steady_clock; 0: not started
  std::vector<std::atomic<bool>> ended_;
  std::atomic<std::size_t> done_{0}, failed_{0};
};

// For people at a terminal (`run --once` with stderr a TTY, not --quiet): besides the log line,
// a progress line on stderr redrawn in place every second ("\r<what>: <describe()>", cleared
// when the work ends), and every log line clears it first (so the two do not run together).
// Off unless the CLI turns it on; never in the daemon.
void enable_terminal_progress();
[[nodiscard]] bool terminal_progress_enabled();

// Logs "<what>: <progress.describe()>" every `interval` (the first after one interval) on the
// engine's logger until destroyed. CERTAGENT_PROGRESS_INTERVAL=<seconds> (1..600) overrides the
// default of 10 s, for tests.
class ProgressReporter {
 public:
  ProgressReporter(std::string what, const BatchProgress& progress);
  ProgressReporter(std::string what, const BatchProgress& progress, std::chrono::milliseconds interval);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  [[nodiscard]] static std::chrono::milliseconds default_interval();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::thread terminal_;  // the line on a terminal (enable_terminal_progress), when on
};

}  // namespace certagent::agent
