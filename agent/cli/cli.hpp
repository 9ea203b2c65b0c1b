#pragma once
// The command line: global options, the subcommand registry, exit codes.
#include <string>

namespace CLI { class App; }

namespace certagent::agent {

// Exit codes (documented in --help and docs/operations.md).
inline constexpr int kExitOk = 0;        // done; every purpose current and complete (run --once)
inline constexpr int kExitFailed = 1;    // the operation failed (CA, network, storage, hook)
inline constexpr int kExitUsage = 2;     // bad command line or invalid policy
inline constexpr int kExitIncomplete = 3;// run --once: some purpose is unbound, expired or lacks a name

struct GlobalOptions {
  std::string policy = "/etc/certagent/policy.json";
  std::string state_dir = "/var/lib/certagent";
  bool json = false;
  int verbosity = 0;  // -v, -vv
};

// Each subcommand lives in its own agent/cmd_<name>.cpp and registers itself
// here: it adds a CLI11 subcommand whose callback stores its exit code.
void register_commands(CLI::App& app, GlobalOptions& globals, int& exit_code);

// Parses argv and runs the chosen command; returns the process exit code.
// Never throws.
[[nodiscard]] int run_cli(int argc, char** argv);

}  // namespace certagent::agent
