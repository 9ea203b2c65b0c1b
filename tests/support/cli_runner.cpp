#include "support/cli_runner.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace certagent::testing {

CliResult run_shell(const std::string& command, bool merge_stderr) {
  const std::string cmd = merge_stderr ? command + " 2>&1" : command;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed for: " + cmd};
  CliResult r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace certagent::testing
