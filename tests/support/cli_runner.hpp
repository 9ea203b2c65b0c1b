#pragma once
// Running a program through the shell from a test and capturing what it
// prints: the built `certagent` binary (CERTAGENT_BINARY, defined for every
// test executable) or a tool such as `openssl`. Arguments are spliced into a
// /bin/sh command line as given: quote paths that may hold spaces.
#include <string>

namespace certagent::testing {

struct CliResult {
  int code = -1;    // the exit status; -1 when killed by a signal or not started
  std::string out;  // stdout, followed by (interleaved with) stderr unless kept apart
};

// Runs `command` with /bin/sh -c. With `merge_stderr`, stderr goes into `out`
// too (2>&1); without, stderr is left to the test's own stderr.
[[nodiscard]] CliResult run_shell(const std::string& command, bool merge_stderr = true);

#ifdef CERTAGENT_BINARY
// `certagent <args>`.
[[nodiscard]] inline CliResult run_certagent(const std::string& args, bool merge_stderr = true) {
  return run_shell(std::string(CERTAGENT_BINARY) + " " + args, merge_stderr);
}
#endif

}  // namespace certagent::testing
