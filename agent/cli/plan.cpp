// `certagent plan`: the certificates the policy requires and what to do for
// each (issue / reissue / renew / rebind / keep), with the reason.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "agent/cli/commands.hpp"
#include "agent/engine/installed_state.hpp"
#include "agent/cli/plan_persist.hpp"
#include "agent/cli/plan_report.hpp"
#include "agent/engine/policy_file.hpp"
#include "policy/plan.hpp"

namespace certagent::agent {
namespace {

int run_plan(const GlobalOptions& globals, bool check_dns) {
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
  const auto actions = policy::plan(policy::required_certificates(*loaded, installed.bindings), installed,
                                    to_seconds(std::chrono::system_clock::now()));
  const bool persist = std::any_of(loaded->challenges.begin(), loaded->challenges.end(), [](const auto& c) {
    return c.type == policy::Challenge::Type::DnsPersist01;
  });
  if (check_dns && !persist) {
    std::cerr << "certagent: plan --check-dns: no challenge of the policy is dns-persist-01; there are no "
                 "_validation-persist records to check\n";
    return kExitUsage;
  }
  std::optional<PersistPlan> records;
  if (persist) records = persist_plan(*loaded, actions, globals.state_dir, check_dns);
  if (globals.json) {
    auto doc = plan_json(actions, loaded->challenges);
    if (records) doc.as_object()["dns_persist"] = persist_json(*records);
    // Written as it is serialized, a buffer at a time (not one string of the whole plan first).
    boost::json::serializer out;
    out.reset(&doc);
    char buffer[16 * 1024];
    while (!out.done()) {
      const auto chunk = out.read(buffer, sizeof buffer);
      std::cout.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
    std::cout << "\n";
  } else {
    std::cout << plan_table(actions, globals.verbosity, loaded->challenges);
    if (records) std::cout << persist_table(*records);
  }
  return check_dns ? persist_exit_code(*records) : kExitOk;
}

}  // namespace

void register_plan_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* cmd = app.add_subcommand("plan", "Show the certificates the policy requires, the names each needs (and the "
                                         "rule behind each and the challenge that validates it, with -v) and what would be done: issue, reissue, renew, "
                                         "rebind or keep; with challenge dns-persist-01, the _validation-persist "
                                         "TXT record each name needs");
  cmd->fallthrough();  // `plan --json -v` as well as `--json -v plan`: the global options
  auto check_dns = std::make_shared<bool>(false);
  cmd->add_flag("--check-dns", *check_dns,
                "dns-persist-01: look up every _validation-persist record (read-only, through the policy's "
                "challenge.resolver) and say which are present, missing or wrong; exit 3 when one is missing or "
                "wrong, 1 when DNS could not be read");
  cmd->callback([&globals, &exit_code, check_dns] { exit_code = run_plan(globals, *check_dns); });
}

}  // namespace certagent::agent
