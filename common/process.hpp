#pragma once
// Running another program without a shell: an argv vector, an explicit
// environment, a working directory, a timeout that kills the whole process
// group (SIGTERM, then SIGKILL after a grace period), and capped capture of
// stdout and stderr. Used by the dns-01 hook solver and the consumer hooks.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/escape.hpp"  // escape_control, for the hook output callers log

namespace certagent {

struct ProcessSpec {
  // argv[0] is the program: a path containing '/' is used as is; a bare name
  // is looked up in the PATH of the environment the child receives. Every
  // element reaches the child literally (no shell, no splitting, no globbing);
  // an element containing NUL is refused rather than silently cut.
  std::vector<std::string> argv;
  // The child's whole environment, "KEY=VALUE" each. Nothing else is passed,
  // except PATH from our own environment when inherit_path is set and `env`
  // does not define PATH itself.
  std::vector<std::string> env;
  bool inherit_path = false;
  std::string working_dir;  // empty: our current directory
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds kill_grace{std::chrono::seconds(2)};  // SIGTERM → SIGKILL
  std::size_t output_cap = 64 * 1024;  // bytes kept of stdout and of stderr each
  // When given and it becomes true (the agent is stopping), the process group is ended as on
  // a timeout (SIGTERM, then SIGKILL after kill_grace) and the outcome says `cancelled`.
  const std::atomic<bool>* cancel = nullptr;
};

struct ProcessOutcome {
  int exit_code = -1;      // the exit status when the program exited, else -1
  int signal = 0;          // the signal that ended it, else 0
  bool timed_out = false;  // we killed it because the timeout ran out
  bool cancelled = false;  // we killed it because spec.cancel became true
  std::string out;         // captured stdout (at most output_cap bytes)
  std::string err;         // captured stderr (at most output_cap bytes)
  bool out_truncated = false;
  bool err_truncated = false;
  std::chrono::milliseconds elapsed{0};

  [[nodiscard]] bool succeeded() const { return !timed_out && !cancelled && signal == 0 && exit_code == 0; }
};

// Runs the program to completion (or to the timeout) and reports how it ended.
// Fails only when the program could not be started (missing or not executable,
// bad working directory, malformed spec); a non-zero exit or a timeout is an
// outcome, not an error. stdin is /dev/null; descriptors other than 0-2 are
// closed in the child; signal dispositions and mask are reset to defaults.
[[nodiscard]] Result<ProcessOutcome> run_process(const ProcessSpec& spec);

// "exited with status 3", "killed by signal 9 (SIGKILL)", "timed out after 5000 ms".
[[nodiscard]] std::string describe(const ProcessOutcome& outcome, const ProcessSpec& spec);

}  // namespace certagent
