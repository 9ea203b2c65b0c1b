#include "support/process_state.hpp"

#include <sys/syscall.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace certagent::testing {

namespace {

// The hexadecimal mask of a "Name:\tMASK" line of /proc/<pid>/status; 0 when absent.
unsigned long long status_mask(const std::string& file, const std::string& name) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + ":", 0) == 0) return std::strtoull(line.c_str() + name.size() + 1, nullptr, 16);
  return 0;
}

}  // namespace

bool signal_pending(pid_t pid, int sig) {
  const unsigned long long bit = 1ULL << (sig - 1);
  const std::string status = "/proc/" + std::to_string(pid) + "/status";
  return ((status_mask(status, "ShdPnd") | status_mask(status, "SigPnd")) & bit) != 0;
}

bool blocked_in(pid_t pid, pid_t tid, std::initializer_list<long> numbers) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall");
  std::string first;
  if (!(in >> first) || first == "running") return false;
  const long number = std::strtol(first.c_str(), nullptr, 10);
  return std::find(numbers.begin(), numbers.end(), number) != numbers.end();
}

bool has_thread_named(pid_t pid, std::string_view name) {
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream comm(t.path() / "comm");
    std::string now;
    if (std::getline(comm, now) && now == name) return true;
  }
  return false;
}

bool idle_in_epoll(pid_t pid, std::string_view pass_thread_name) {
  return !has_thread_named(pid, pass_thread_name) &&
         blocked_in(pid, pid, {SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_pwait2});
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace certagent::testing
