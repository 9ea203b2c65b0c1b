#pragma once
// One writer at a time on a state directory: an flock() on <state>/lock.
// The kernel drops the lock when its holder exits, even by SIGKILL, so a
// crashed agent never leaves a stale lock behind. The holder writes its PID
// into the file so a second agent can say who holds it.
#include <atomic>
#include <chrono>
#include <optional>
#include <filesystem>

#include "common/error.hpp"

namespace certagent::agent {

class StateLock {
 public:
  // Takes the lock or fails at once, naming the holder:
  // "another certagent (pid 1234) holds /var/lib/certagent/lock".
  [[nodiscard]] static Result<StateLock> try_acquire(const std::filesystem::path& state_dir);
  // Waits up to `timeout` for the lock, then fails like try_acquire (kind Timeout); a set
  // `cancel` ends the wait early (kind Cancelled).
  [[nodiscard]] static Result<StateLock> acquire(const std::filesystem::path& state_dir,
                                                 std::chrono::milliseconds timeout,
                                                 const std::atomic<bool>* cancel = nullptr);
  // The same on another lock file: <state>/daemon.lock, held by `certagent run` for its whole
  // life so that one state directory has one daemon, while <state>/lock is held only while
  // something writes (a pass, or a command such as assign).
  [[nodiscard]] static Result<StateLock> acquire_file(const std::filesystem::path& lock_file,
                                                      std::chrono::milliseconds timeout,
                                                      const std::atomic<bool>* cancel = nullptr);

  StateLock(StateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StateLock& operator=(StateLock&& o) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// <state>/lock (held while something writes) and <state>/daemon.lock (held by `certagent run`).
[[nodiscard]] std::filesystem::path writer_lock_file(const std::filesystem::path& state_dir);
[[nodiscard]] std::filesystem::path daemon_lock_file(const std::filesystem::path& state_dir);

// The PID of the process holding `lock_file` now, or nothing when no one holds it (or it
// cannot be told).
[[nodiscard]] std::optional<long> lock_holder(const std::filesystem::path& lock_file);

}  // namespace certagent::agent
