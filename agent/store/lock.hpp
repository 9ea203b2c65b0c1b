#pragma once
// One writer at a time on a state directory: an flock() on <state>/lock.
// The kernel drops the lock when its holder exits, even by SIGKILL, so a
// crashed agent never leaves a stale lock behind. The holder writes its PID
// into the file so a second agent can say who holds it.
#include <chrono>
#include <filesystem>

#include "common/error.hpp"

namespace certagent::agent {

class StateLock {
 public:
  // Takes the lock or fails at once, naming the holder:
  // "another certagent (pid 1234) holds /var/lib/certagent/lock".
  [[nodiscard]] static Result<StateLock> try_acquire(const std::filesystem::path& state_dir);
  // Waits up to `timeout` for the lock, then fails like try_acquire (kind Timeout).
  [[nodiscard]] static Result<StateLock> acquire(const std::filesystem::path& state_dir,
                                                 std::chrono::milliseconds timeout);

  StateLock(StateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StateLock& operator=(StateLock&& o) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace certagent::agent
