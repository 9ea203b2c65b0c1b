#pragma once
// One registration function per subcommand; each is defined in agent/cmd_<name>.cpp.
#include <string>

#include "agent/cli/cli.hpp"

namespace certagent::agent {

void register_acme_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
// `acme` subcommands, registered by register_acme_command under the `acme` group.
void register_acme_directory_command(CLI::App& acme, GlobalOptions& globals, int& exit_code);
void register_acme_issue_command(CLI::App& acme, GlobalOptions& globals, int& exit_code);

void register_plan_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_policy_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
// `run` (agent/cli/run.cpp) is registered once the engine defines make_pass (agent/engine/engine.hpp).
void register_run_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_status_command(CLI::App& app, GlobalOptions& globals, int& exit_code);

// The engine's commands (issue 5).
void register_certs_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_request_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_assign_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_revoke_command(CLI::App& app, GlobalOptions& globals, int& exit_code);

// `certagent init` (agent/cli/init.cpp) and `certagent completion` (agent/cli/completion.cpp).
void register_init_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_completion_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
// The bash completion script for every subcommand and option `app` defines.
[[nodiscard]] std::string bash_completion(CLI::App& app);

}  // namespace certagent::agent
