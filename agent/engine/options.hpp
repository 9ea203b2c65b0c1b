#pragma once
// What every command and the daemon share: the global options and the exit codes. Below the
// engine so that the daemon and the engine need nothing from agent/cli/.
#include <string>

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

}  // namespace certagent::agent
