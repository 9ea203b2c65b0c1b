#pragma once
// One registration function per subcommand; each is defined in agent/cmd_<name>.cpp.
#include "agent/cli.hpp"

namespace certagent::agent {

void register_acme_command(CLI::App& app, GlobalOptions& globals, int& exit_code);

}  // namespace certagent::agent
