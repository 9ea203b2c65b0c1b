// `certagent policy check FILE` and `certagent policy show-presets`.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "agent/cli/commands.hpp"
#include "agent/engine/policy_file.hpp"
#include "policy/presets.hpp"
#include "policy/required.hpp"

namespace certagent::agent {
namespace {

std::string summary(const std::string& file, const policy::Policy& p) {
  const auto certs = policy::required_certificates(p);
  size_t purposes = 0, names = 0;
  for (const auto& c : certs) {
    purposes += c.purposes.size();
    names += c.names.size();
  }
  return fmt::format("{}: valid: {} role(s), {} SIP domain(s), {} purpose(s), {} certificate(s) with {} name(s) "
                     "when nothing is bound yet (run `certagent plan -v` for the names)\n",
                     file, p.roles.size(), p.sip_domains.size(), purposes, certs.size(), names);
}

int run_check(const std::string& file) {
  auto loaded = load_policy(file);
  if (!loaded) {
    std::cerr << loaded.error().message << "\n";
    return kExitUsage;
  }
  std::cout << summary(file, *loaded);
  return kExitOk;
}

int run_show_presets() {
  if (auto parsed = policy::presets(); !parsed) {
    std::cerr << "certagent: the built-in presets are broken: " << parsed.error().message << "\n";
    return kExitFailed;
  }
  std::cout << policy::presets_text();
  return kExitOk;
}

}  // namespace

void register_policy_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* group = app.add_subcommand("policy", "Check a policy file, or show the Lync presets it builds on");
  group->require_subcommand(1);
  group->fallthrough();  // global options (--policy, --json, -v) after the subcommand too

  auto file = std::make_shared<std::string>();
  auto* check = group->add_subcommand("check", "Validate a policy; on the first error print FILE:LINE:COLUMN: message "
                                               "and exit 2");
  check->add_option("FILE", *file, "Policy file (default: --policy)");
  check->fallthrough();
  check->callback([&globals, &exit_code, file] { exit_code = run_check(file->empty() ? globals.policy : *file); });

  auto* show = group->add_subcommand("show-presets", "Print the Lync presets in the generic policy form (names as "
                                                     "templates over variables), to read or to override");
  show->callback([&exit_code] { exit_code = run_show_presets(); });
}

}  // namespace certagent::agent
