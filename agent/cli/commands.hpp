#pragma once
// One registration function per subcommand; each is defined in agent/cli/<name>.cpp.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <utility>

#include "agent/cli/cli.hpp"

namespace certagent::agent {

void register_acme_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
// `acme` subcommands, registered by register_acme_command under the `acme` group.
void register_acme_directory_command(CLI::App& acme, GlobalOptions& globals, int& exit_code);
void register_acme_issue_command(CLI::App& acme, GlobalOptions& globals, int& exit_code);

void register_plan_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_policy_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_run_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_status_command(CLI::App& app, GlobalOptions& globals, int& exit_code);

// The Lync cmdlets' counterparts: Get-CsCertificate, Request-CsCertificate, Set-CsCertificate.
void register_certs_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_request_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_assign_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_revoke_command(CLI::App& app, GlobalOptions& globals, int& exit_code);

// `certagent init` (agent/cli/init.cpp) and `certagent completion` (agent/cli/completion.cpp).
void register_init_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
void register_completion_command(CLI::App& app, GlobalOptions& globals, int& exit_code);
// The bash completion script for every subcommand and option `app` defines.
[[nodiscard]] std::string bash_completion(CLI::App& app);

// The subcommand `name`, its options kept in an `Options` the caller fills through the returned
// pointer; when it is given, exit_code = run(globals, options).
template <class Options>
std::pair<CLI::App*, std::shared_ptr<Options>> add_command(CLI::App& app, const std::string& name,
                                                           const std::string& about, GlobalOptions& globals,
                                                           int& exit_code,
                                                           int (*run)(const GlobalOptions&, const Options&)) {
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(name, about);
  cmd->callback([options, &globals, &exit_code, run] { exit_code = run(globals, *options); });
  return {cmd, options};
}

// The options assign, request and revoke share: --type (required), --thumbprint (required).
void add_types_option(CLI::App& cmd, std::string& types);
void add_thumbprint_option(CLI::App& cmd, std::string& thumbprint);

}  // namespace certagent::agent
