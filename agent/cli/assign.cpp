// `certagent assign --type T1[,T2] --thumbprint X [--force]`: Set-CsCertificate,
// made safe — refuses, naming each missing name, a certificate that lacks a
// name one of the purposes requires, an expired one, and one whose key is not
// in the store. --force binds anyway, and says so in the log.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

#include "agent/cli/assign_check.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/writer.hpp"
#include "agent/engine/engine.hpp"
#include "agent/engine/consumers.hpp"
#include "agent/store/logging.hpp"
#include "agent/engine/policy_file.hpp"
#include "agent/engine/rebind.hpp"

namespace certagent::agent {
namespace {

struct AssignOptions {
  std::string types;
  std::string thumbprint;
  bool force = false;
};

int report_outcomes(const std::vector<RebindOutcome>& outcomes, const std::string& thumbprint) {
  int code = kExitOk;
  for (const auto& o : outcomes) {
    if (o.succeeded()) {
      std::cout << fmt::format("{}: bound to {}\n", o.purpose, thumbprint);
      continue;
    }
    std::cerr << fmt::format("certagent assign: {}: {}{}\n", o.purpose, o.failure->message,
                             o.rolled_back ? "; the previous certificate is bound again" : "");
    code = kExitFailed;
  }
  return code;
}

int run_assign(const GlobalOptions& globals, const AssignOptions& o) {
  auto policy = load_policy(globals.policy);
  if (!policy) { std::cerr << policy.error().message << "\n"; return kExitUsage; }
  const auto purposes = split_list(o.types);
  if (purposes.empty()) { std::cerr << "certagent assign: --type names no purpose\n"; return kExitUsage; }
  auto store = open_store_for_writing(globals.state_dir);
  if (!store) { std::cerr << "certagent assign: " << store.error().message << "\n"; return kExitFailed; }
  auto found = store->find_by_thumbprint(o.thumbprint);
  if (!found) { std::cerr << "certagent assign: " << found.error().message << "\n"; return kExitUsage; }
  if (!*found) {
    std::cerr << fmt::format("certagent assign: no certificate with thumbprint {} and its key is in the store "
                             "(see `certagent certs`, or `certagent request` to obtain one)\n", o.thumbprint);
    return kExitFailed;
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto refusals = assign_refusals(**found, purposes, required_names_by_purpose(*policy), now);
  for (const auto& r : refusals)
    std::cerr << fmt::format("certagent assign: {}{}\n", o.force ? "FORCED despite: " : "refused: ", r);
  if (!refusals.empty() && !o.force) return kExitFailed;
  if (!refusals.empty())
    module_logger("engine")->warn("assign --force: binding {} to {} despite: {}", (*found)->meta.thumbprint,
                                  fmt::join(purposes, ", "), fmt::join(refusals, "; "));
  auto outcomes = rebind(*store, purposes, (*found)->id, consumers_from_policy(*policy));
  if (!outcomes) { std::cerr << "certagent assign: " << outcomes.error().message << "\n"; return kExitFailed; }
  const int code = report_outcomes(*outcomes, (*found)->meta.thumbprint);
  notify_daemon_after_writing(globals.state_dir);
  return code;
}

}  // namespace

void add_types_option(CLI::App& cmd, std::string& types) {
  cmd.add_option("--type", types, "Purposes, comma-separated (Default,WebServicesInternal,...)")->required();
}

void add_thumbprint_option(CLI::App& cmd, std::string& thumbprint) {
  cmd.add_option("--thumbprint", thumbprint, "The certificate's SHA-1 thumbprint (or SHA-256)")->required();
}

void register_assign_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto [cmd, o] = add_command(app, "assign", "Bind a stored certificate to purposes, refusing one that lacks a "
                                             "required name (Set-CsCertificate)", globals, exit_code, run_assign);
  add_types_option(*cmd, o->types);
  add_thumbprint_option(*cmd, o->thumbprint);
  cmd->add_flag("--force", o->force, "Bind even if names are missing or it expired (logged)");
}

}  // namespace certagent::agent
