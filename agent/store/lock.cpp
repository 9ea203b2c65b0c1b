#include "agent/store/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "agent/store/fsutil.hpp"

namespace certagent::agent {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(50);

// The PID recorded by the holder, or 0 when unreadable.
long holder_pid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  long pid = 0;
  auto [p, ec] = std::from_chars(buf, buf + n, pid);
  return ec == std::errc() ? pid : 0;
}

Result<int> open_lock_file(const std::filesystem::path& lock) {
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == ELOOP)
      return fail(ErrorKind::Storage, lock.string() + " is a symbolic link; certagent refuses to follow it");
    return std::unexpected(fsutil::errno_error("opening the lock file", lock, errno));
  }
  return fd;
}

// After flock succeeded: record our PID for the next agent's message (not again when it is
// there already: the daemon takes the lock for every pass, and an idle pass writes nothing).
Result<void> record_pid(int fd, const std::filesystem::path& lock) {
  if (holder_pid(fd) == static_cast<long>(::getpid())) return ok();
  std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    return std::unexpected(fsutil::errno_error("recording the PID in", lock, errno));
  return ok();
}

Error busy(int fd, const std::filesystem::path& lock, ErrorKind kind, std::string_view after) {
  long pid = holder_pid(fd);
  std::string who = pid > 0 ? fmt::format("another certagent (pid {})", pid) : std::string("another certagent");
  return Error(kind, fmt::format("{} holds {}{}", who, lock.string(), after), true);
}

}  // namespace

StateLock& StateLock::operator=(StateLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

Result<StateLock> StateLock::try_acquire(const std::filesystem::path& state_dir) {
  return acquire(state_dir, std::chrono::milliseconds(0));
}

Result<StateLock> StateLock::acquire(const std::filesystem::path& state_dir, std::chrono::milliseconds timeout,
                                     const std::atomic<bool>* cancel) {
  return acquire_file(writer_lock_file(state_dir), timeout, cancel);
}

std::optional<long> lock_holder(const std::filesystem::path& lock_file) {
  const int fd = ::open(lock_file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<long> pid;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK && holder_pid(fd) > 0) pid = holder_pid(fd);
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return pid;
}

Result<StateLock> StateLock::acquire_file(const std::filesystem::path& lock, std::chrono::milliseconds timeout,
                                          const std::atomic<bool>* cancel) {
  auto fd = open_lock_file(lock);
  if (!fd) return std::unexpected(fd.error());
  StateLock held(*fd);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (::flock(held.fd_, LOCK_EX | LOCK_NB) == 0) break;
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return std::unexpected(fsutil::errno_error("locking", lock, errno));
    if (timeout.count() == 0) return std::unexpected(busy(held.fd_, lock, ErrorKind::Storage, ""));
    if (cancel != nullptr && cancel->load())
      return fail(ErrorKind::Cancelled, "stopped while waiting for " + lock.string());
    if (std::chrono::steady_clock::now() >= deadline)
      return std::unexpected(busy(held.fd_, lock, ErrorKind::Timeout,
                                  fmt::format(" (waited {} ms)", timeout.count())));
    std::this_thread::sleep_for(kPollInterval);
  }
  if (auto r = record_pid(held.fd_, lock); !r) return std::unexpected(r.error());
  return held;
}

std::filesystem::path writer_lock_file(const std::filesystem::path& state_dir) { return state_dir / "lock"; }
std::filesystem::path daemon_lock_file(const std::filesystem::path& state_dir) { return state_dir / "daemon.lock"; }

}  // namespace certagent::agent
