#include "daemon_support.hpp"
#include "support/files.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace certagent::integration {

using certagent::testing::read_text;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

namespace {

// Execs argv with envp, stdout and stderr appended to `log` (in the child: no allocation).
[[noreturn]] void exec_child(const std::vector<char*>& argv, const std::vector<char*>& envp, const char* log) {
  const int fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  const int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0) ::dup2(null, 0);
  ::setpgid(0, 0);  // not our terminal's SIGINT
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const fs::path& log) {
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) exec_child(argv, envp, log_path.c_str());
  return pid;
}

std::vector<std::string> base_env(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  if (const char* path = std::getenv("PATH")) env.push_back(std::string("PATH=") + path);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

AgentProcess::AgentProcess(const EngineSandbox& box, const fs::path& log_file, const std::vector<std::string>& args,
                           const std::vector<std::string>& env)
    : log_file_(log_file) {
  std::vector<std::string> argv{CERTAGENT_BINARY, "--policy", box.policy_file().string(), "--state-dir",
                                box.state().string(), "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = spawn(argv, base_env(env), log_file_);
}

AgentProcess::~AgentProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

std::string AgentProcess::log() const { return read_text(log_file_); }

std::size_t AgentProcess::log_count(const std::string& needle) const {
  const std::string text = log();
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

bool AgentProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds limit, std::size_t times) const {
  return poll_until([&] { return log_count(needle) >= times; }, limit);
}

void AgentProcess::signal(int sig) const {
  if (!status_) ::kill(pid_, sig);
}

bool AgentProcess::running() {
  if (status_) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) status_ = decode(st);
  return !status_;
}

std::optional<int> AgentProcess::wait_exit(std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (running() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  return status_;
}

NotifySocket::NotifySocket(const fs::path& path) : path_(path) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd_ < 0 || path.string().size() >= sizeof addr.sun_path)
    throw std::runtime_error("cannot create the notify socket " + path.string());
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("cannot bind the notify socket " + path.string() + ": " + std::strerror(errno));
}

NotifySocket::~NotifySocket() {
  if (fd_ >= 0) ::close(fd_);
  std::error_code ec;
  fs::remove(path_, ec);
}

void NotifySocket::drain() {
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) return;
    std::istringstream in(std::string(buf.data(), static_cast<std::size_t>(n)));
    for (std::string line; std::getline(in, line);) lines_.push_back(line);
  }
}

std::size_t NotifySocket::count(const std::string& prefix) const {
  std::size_t n = 0;
  for (const auto& l : lines_) n += l.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

bool NotifySocket::wait_for(const std::string& prefix, std::chrono::milliseconds limit, std::size_t times) {
  return poll_until([&] {
    drain();
    return count(prefix) >= times;
  }, limit);
}

}  // namespace certagent::integration
