#include "daemon_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "agent/daemon/run_agent.hpp"

namespace certagent::agent::testing {

namespace {

void write_all(int fd, const std::string& line) {
  const std::string text = line + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void child_main(int fd, const DaemonOptions& options, const TestPass& pass,
                             const std::vector<std::pair<std::string, std::string>>& env, bool through_run_agent,
                             const std::filesystem::path& state_dir) {
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  const auto report = [fd](const std::string& line) { write_all(fd, line); };
  PassFn fn = [&](const PassRequest& r) {
    report(std::string("pass ") + to_string(r.reason));
    return pass(r, report);
  };
  int code = 0;
  if (through_run_agent) {
    GlobalOptions globals;
    globals.policy = options.policy_file.string();
    if (!state_dir.empty()) globals.state_dir = state_dir.string();
    RunOptions run;
    run.once = options.once;
    code = run_agent(globals, run, [&](const GlobalOptions&) -> Result<PassFn> { return fn; });
  } else {
    DaemonOptions copy = options;
    copy.on_metrics_listening = [&](std::uint16_t port) { report("port " + std::to_string(port)); };
    auto notifier = Notifier::from_environment();
    if (!notifier) notifier = Notifier{};
    const DaemonResult result = run_daemon(copy, fn, *notifier);
    report("exit " + std::to_string(result.exit_code) + " passes " + std::to_string(result.passes) +
           (result.pass_abandoned ? " abandoned" : ""));
    code = result.exit_code;
  }
  ::_exit(code);
}

}  // namespace

DaemonChild::DaemonChild(DaemonOptions options, TestPass pass, std::vector<std::pair<std::string, std::string>> env,
                         bool through_run_agent, std::filesystem::path state_dir) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    ::close(fds[0]);
    child_main(fds[1], options, pass, env, through_run_agent, state_dir);
  }
  ::close(fds[1]);
  fd_ = fds[0];
}

DaemonChild::~DaemonChild() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> DaemonChild::next_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;  // the child closed the pipe (exited)
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

std::vector<std::string> DaemonChild::lines_during(std::chrono::milliseconds window) {
  std::vector<std::string> lines;
  const auto deadline = std::chrono::steady_clock::now() + window;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return lines;
    auto line = next_line(left);
    if (line) lines.push_back(*line);
  }
}

void DaemonChild::signal(int sig) const { ::kill(pid_, sig); }

std::optional<int> DaemonChild::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    ::usleep(10'000);
  }
  return std::nullopt;
}

PassSummary summary_waking_at(std::chrono::sys_seconds next_wake) {
  PassSummary s;
  s.next_wake = next_wake;
  s.status_line = "all current";
  return s;
}

long context_switches(pid_t pid) {
  long total = 0;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream in(task.path() / "status");
    std::string key;
    long value = 0;
    while (in >> key) {
      if (key == "voluntary_ctxt_switches:" || key == "nonvoluntary_ctxt_switches:") {
        in >> value;
        total += value;
      }
    }
  }
  return total;
}

}  // namespace certagent::agent::testing
