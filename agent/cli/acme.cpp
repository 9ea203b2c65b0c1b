// `certagent acme ...`: low-level ACME commands that exercise protocol/ directly,
// without a policy (useful to test a CA before writing a policy for it).
#include <CLI/CLI.hpp>

#include "agent/cli/commands.hpp"

namespace certagent::agent {

void register_acme_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* acme = app.add_subcommand("acme", "Low-level ACME operations against a CA, without a policy");
  acme->require_subcommand(1);
  register_acme_directory_command(*acme, globals, exit_code);
  register_acme_issue_command(*acme, globals, exit_code);
}

}  // namespace certagent::agent
