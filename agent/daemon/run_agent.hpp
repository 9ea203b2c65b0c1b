#pragma once
// `certagent run` without the CLI: reads the systemd environment, checks the options, builds
// the pass through a factory (make_pass in production, a test function in the tests) and runs
// the daemon loop (or one pass with --once).
#include <functional>
#include <string>

#include "agent/engine/options.hpp"
#include "agent/engine/pass_types.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct RunOptions {
  bool once = false;
  bool now = false;                  // the first pass retries certificates in back-off at once
  std::string metrics_listen;        // "127.0.0.1:9464"; empty: no metrics endpoint
  bool metrics_allow_remote = false;
};

using PassFactory = std::function<Result<PassFn>(const GlobalOptions&)>;

// Exit codes of agent/engine/options.hpp: the daemon exits 0 on SIGTERM/SIGINT; 2 for bad options;
// 1 when the pass cannot be built or the daemon cannot start; --once: once_exit_code().
// Reads and then removes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment.
// When a pass ignores the cancel flag past the grace period the process ends with _Exit(1).
[[nodiscard]] int run_agent(const GlobalOptions& globals, const RunOptions& options, const PassFactory& make);

}  // namespace certagent::agent
