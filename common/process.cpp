#include "common/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/unique_fd.hpp"

namespace certagent {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

using Fd = UniqueFd;

struct Pipe {
  Fd read, write;
};

Result<Pipe> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0)
    return fail(ErrorKind::Storage, std::string("cannot create a pipe: ") + std::strerror(errno));
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

Result<void> check_spec(const ProcessSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty())
    return fail(ErrorKind::Invalid, "no program to run (argv is empty)");
  for (const auto& a : spec.argv)
    if (has_nul(a)) return fail(ErrorKind::Invalid, "an argument contains a NUL byte: " + escape_control(a, 200));
  for (const auto& e : spec.env) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || has_nul(e))
      return fail(ErrorKind::Invalid, "malformed environment entry (want KEY=VALUE): " + escape_control(e, 200));
  }
  if (has_nul(spec.working_dir)) return fail(ErrorKind::Invalid, "the working directory contains a NUL byte");
  return ok();
}

std::vector<std::string> child_environment(const ProcessSpec& spec) {
  std::vector<std::string> env = spec.env;
  bool has_path = false;
  for (const auto& e : env) has_path = has_path || e.starts_with("PATH=");
  if (spec.inherit_path && !has_path) {
    if (const char* p = std::getenv("PATH")) env.push_back(std::string("PATH=") + p);
  }
  return env;
}

// A bare program name is looked up in the child's PATH, so that what runs
// does not depend on our own environment unless asked to.
Result<std::string> resolve_program(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path;
  for (const auto& e : env)
    if (e.starts_with("PATH=")) path = e.substr(5);
  if (path.empty())
    return fail(ErrorKind::Invalid, "cannot run '" + escape_control(name, 200) +
                                        "': not a path and the child environment has no PATH");
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return fail(ErrorKind::Invalid, "cannot run '" + escape_control(name, 200) + "': not found in PATH " +
                                      escape_control(path, 400));
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// RAII for the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

int prepare(SpawnSetup& s, const ProcessSpec& spec, const Pipe& out, const Pipe& err) {
  int rc = ::posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&s.actions, out.write.get(), 1);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&s.actions, err.write.get(), 2);
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
  if (rc == 0 && !spec.working_dir.empty())
    rc = ::posix_spawn_file_actions_addchdir_np(&s.actions, spec.working_dir.c_str());
  sigset_t none, all;
  ::sigemptyset(&none);
  ::sigfillset(&all);
  ::sigdelset(&all, SIGKILL);
  ::sigdelset(&all, SIGSTOP);
  if (rc == 0) rc = ::posix_spawnattr_setsigmask(&s.attr, &none);
  if (rc == 0) rc = ::posix_spawnattr_setsigdefault(&s.attr, &all);
  if (rc == 0) rc = ::posix_spawnattr_setpgroup(&s.attr, 0);  // its own process group
  if (rc == 0)
    rc = ::posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  return rc;
}

Result<pid_t> spawn(const ProcessSpec& spec, const Pipe& out, const Pipe& err) {
  std::vector<std::string> env = child_environment(spec);
  auto program = resolve_program(spec.argv[0], env);
  if (!program) return std::unexpected(program.error());
  SpawnSetup setup;
  if (int rc = prepare(setup, spec, out, err); rc != 0)
    return fail(ErrorKind::Invalid, std::string("cannot prepare to run a program: ") + std::strerror(rc));
  std::vector<std::string> argv = spec.argv;
  auto cargv = c_strings(argv);
  auto cenv = c_strings(env);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program->c_str(), &setup.actions, &setup.attr, cargv.data(), cenv.data());
  if (rc != 0) {
    std::string where = spec.working_dir.empty() ? "" : " in directory '" + escape_control(spec.working_dir, 400) + "'";
    return fail(ErrorKind::Invalid, "cannot run '" + escape_control(*program, 400) + "'" + where + ": " + std::strerror(rc));
  }
  return pid;
}

// Reads what is available; false once the pipe reached end of file.
bool drain(int fd, std::string& into, bool& truncated, std::size_t cap) {
  std::array<char, 8192> buf{};
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      std::size_t room = cap > into.size() ? cap - into.size() : 0;
      std::size_t keep = std::min<std::size_t>(room, static_cast<std::size_t>(n));
      into.append(buf.data(), keep);
      if (keep < static_cast<std::size_t>(n)) truncated = true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

// The wait loop: read both pipes, reap the child, enforce the deadline.
class Supervisor {
 public:
  Supervisor(const ProcessSpec& spec, pid_t pid, Fd out, Fd err)
      : spec_(spec), pid_(pid), out_(std::move(out)), err_(std::move(err)) {}

  ProcessOutcome run() {
    const auto start = Clock::now();
    deadline_ = start + spec_.timeout;
    while (!status_) {
      poll_pipes(next_wait());
      reap();
      if (!status_) enforce_deadline();
    }
    finish_reading(Clock::now() + milliseconds(200));
    result_.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    if (*status_ != kLost && WIFEXITED(*status_)) result_.exit_code = WEXITSTATUS(*status_);
    if (*status_ != kLost && WIFSIGNALED(*status_)) result_.signal = WTERMSIG(*status_);
    return std::move(result_);
  }

 private:
  int next_wait() const {
    auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now()).count();
    // Pipes still open: poll wakes us at output or end of file. Pipes closed
    // (or a grandchild holding them): check on the child every few ms.
    long slice = (out_.get() < 0 && err_.get() < 0) ? 5 : 20;
    return static_cast<int>(std::clamp<long>(left, 0, slice));
  }

  void poll_pipes(int wait_ms) {
    std::array<pollfd, 2> fds{pollfd{out_.get(), POLLIN, 0}, pollfd{err_.get(), POLLIN, 0}};
    if (out_.get() < 0 && err_.get() < 0) {
      ::poll(nullptr, 0, wait_ms);
      return;
    }
    if (::poll(fds.data(), fds.size(), wait_ms) <= 0) return;
    if (fds[0].revents != 0 && !drain(out_.get(), result_.out, result_.out_truncated, spec_.output_cap)) out_.reset();
    if (fds[1].revents != 0 && !drain(err_.get(), result_.err, result_.err_truncated, spec_.output_cap)) err_.reset();
  }

  void reap() {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) status_ = status;
    if (r < 0 && errno == ECHILD) status_ = kLost;  // reaped elsewhere (SIGCHLD ignored)
  }

  void enforce_deadline() {
    const bool ending = result_.timed_out || result_.cancelled;
    const bool cancel = !ending && spec_.cancel != nullptr && spec_.cancel->load();
    if (Clock::now() < deadline_ && !cancel) return;
    if (!ending) {
      (cancel ? result_.cancelled : result_.timed_out) = true;
      ::kill(-pid_, SIGTERM);
      deadline_ = Clock::now() + spec_.kill_grace;
      return;
    }
    ::kill(-pid_, SIGKILL);
    int status = 0;
    pid_t r = -1;
    while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    status_ = r == pid_ ? status : kLost;
  }

  // After the child ended: take what is left in the pipes, but do not wait
  // long for a grandchild that keeps them open.
  void finish_reading(Clock::time_point until) {
    while ((out_.get() >= 0 || err_.get() >= 0) && Clock::now() < until) {
      auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
      poll_pipes(static_cast<int>(std::max<long>(left, 0)));
    }
  }

  static constexpr int kLost = -1;  // no wait status to be had
  const ProcessSpec& spec_;
  pid_t pid_;
  Fd out_, err_;
  Clock::time_point deadline_;
  std::optional<int> status_;
  ProcessOutcome result_;
};

}  // namespace

Result<ProcessOutcome> run_process(const ProcessSpec& spec) {
  if (auto c = check_spec(spec); !c) return std::unexpected(c.error());
  auto out = make_pipe();
  if (!out) return std::unexpected(out.error());
  auto err = make_pipe();
  if (!err) return std::unexpected(err.error());
  auto pid = spawn(spec, *out, *err);
  if (!pid) return std::unexpected(pid.error());
  out->write.reset();  // the child holds the write ends now
  err->write.reset();
  Supervisor supervisor(spec, *pid, std::move(out->read), std::move(err->read));
  return supervisor.run();
}

std::string describe(const ProcessOutcome& o, const ProcessSpec& spec) {
  std::string ending;
  if (o.signal != 0) {
    const char* name = ::sigabbrev_np(o.signal);
    ending = "killed by signal " + std::to_string(o.signal) + (name ? std::string(" (SIG") + name + ")" : "");
  } else if (o.exit_code >= 0) {
    ending = "exited with status " + std::to_string(o.exit_code);
  } else {
    ending = "ended, but its exit status was lost";
  }
  if (o.timed_out) return "timed out after " + std::to_string(spec.timeout.count()) + " ms; " + ending;
  if (o.cancelled) return "stopped because the agent is stopping; " + ending;
  return ending;
}

}  // namespace certagent
