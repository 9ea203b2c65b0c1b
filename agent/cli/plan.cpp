// `certagent plan`: the certificates the policy requires and what to do for
// each (issue / reissue / renew / rebind / keep), with the reason.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <iostream>

#include "agent/cli/commands.hpp"
#include "agent/engine/installed_state.hpp"
#include "agent/cli/plan_report.hpp"
#include "agent/engine/policy_file.hpp"
#include "policy/plan.hpp"

namespace certagent::agent {
namespace {

int run_plan(const GlobalOptions& globals) {
  auto loaded = load_policy(globals.policy);
  if (!loaded) {
    std::cerr << loaded.error().message << "\n";
    return kExitUsage;
  }
  std::vector<std::string> problems;
  auto installed_now = installed_state(globals.state_dir, problems);
  if (!installed_now) {
    std::cerr << "certagent: " << installed_now.error().message << "\n";
    return kExitFailed;
  }
  for (const auto& p : problems) std::cerr << "certagent: warning: skipped in the state directory: " << p << "\n";
  const policy::Installed& installed = *installed_now;
  const auto required = policy::required_certificates(*loaded, installed.bindings);
  const auto actions = policy::plan(required, installed, policy::Clock::now());
  if (globals.json)
    std::cout << boost::json::serialize(plan_json(actions)) << "\n";
  else
    std::cout << plan_table(actions, globals.verbosity);
  return kExitOk;
}

}  // namespace

void register_plan_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* cmd = app.add_subcommand("plan", "Show the certificates the policy requires, the names each needs (and the "
                                         "rule behind each, with -v) and what would be done: issue, reissue, renew, "
                                         "rebind or keep");
  cmd->fallthrough();  // `plan --json -v` as well as `--json -v plan`: the global options
  cmd->callback([&globals, &exit_code] { exit_code = run_plan(globals); });
}

}  // namespace certagent::agent
