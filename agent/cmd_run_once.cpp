// `certagent run --once`: one pass of the engine, then exit with
//   0 every purpose bound to a current certificate carrying all its names,
//   1 some work failed, 2 bad command line or invalid policy, 3 incomplete.
// The long-running `run` (the daemon) registers itself separately when it lands;
// until then `run` without --once is refused.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <iostream>

#include "agent/commands.hpp"
#include "agent/engine.hpp"

namespace certagent::agent {
namespace {

int pass_exit_code(const PassSummary& s) {
  if (s.policy_error) return kExitUsage;
  if (s.failed) return kExitFailed;
  if (s.incomplete) return kExitIncomplete;
  return kExitOk;
}

}  // namespace

void register_run_once_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto once = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("run", "One pass of the plan: issue, reissue, renew and rebind what it says");
  cmd->add_flag("--once", *once, "Do one pass and exit (required until the daemon lands)");
  cmd->callback([once, &globals, &exit_code] {
    if (!*once) {
      std::cerr << "certagent run: only --once is available in this build\n";
      exit_code = kExitUsage;
      return;
    }
    auto pass = make_pass(globals);
    if (!pass) {
      std::cerr << "certagent run: " << pass.error().message << "\n";
      exit_code = kExitFailed;
      return;
    }
    std::atomic<bool> cancel{false};
    PassRequest request{WakeReason::Startup,
                        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), &cancel};
    PassSummary summary = (*pass)(request);
    if (summary.policy_error) std::cerr << *summary.policy_error << "\n";
    std::cerr << "certagent run: " << summary.status_line << "\n";
    exit_code = pass_exit_code(summary);
  });
}

}  // namespace certagent::agent
