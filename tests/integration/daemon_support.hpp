#pragma once
// Helpers for the daemon's integration tests: the real `certagent run` as a child process
// (its log in a file the test reads while it runs), a systemd-style NOTIFY_SOCKET the test
// listens on, and polling with a deadline. A pebble of the test's own: pebble_instances.hpp.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine_support.hpp"

namespace certagent::integration {

// Polls `done` every 100 ms until it is true (returns true) or `limit` has passed (false).
[[nodiscard]] bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

// `certagent --policy P --state-dir S run <args>` running in the background, stdout and
// stderr appended to `log_file`. The destructor SIGKILLs and reaps it when still running.
class AgentProcess {
 public:
  AgentProcess(const EngineSandbox& box, const std::filesystem::path& log_file, const std::vector<std::string>& args = {},
               const std::vector<std::string>& env = {});
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::string log() const;  // everything it has logged so far
  // How often `needle` occurs in the log.
  [[nodiscard]] std::size_t log_count(const std::string& needle) const;
  // Waits until `needle` occurs at least `times` times in the log.
  [[nodiscard]] bool wait_for_log(const std::string& needle, std::chrono::milliseconds limit, std::size_t times = 1) const;
  void signal(int sig) const;
  // The exit status, 128 + signal when a signal ended it, or nothing while it still runs
  // after `limit`.
  [[nodiscard]] std::optional<int> wait_exit(std::chrono::milliseconds limit);
  [[nodiscard]] bool running();

 private:
  std::filesystem::path log_file_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// A unix datagram socket as systemd's NOTIFY_SOCKET: the test reads what the agent sends.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  [[nodiscard]] std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }
  // Reads every datagram that has arrived (without waiting) into messages().
  void drain();
  // Waits until a message (one datagram may carry several lines) contains a line starting
  // with `prefix`; counts lines, so `times` = 2 waits for a second WATCHDOG=1.
  [[nodiscard]] bool wait_for(const std::string& prefix, std::chrono::milliseconds limit, std::size_t times = 1);
  [[nodiscard]] std::size_t count(const std::string& prefix) const;
  [[nodiscard]] const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::string> lines_;
};

}  // namespace certagent::integration
