// Registration placeholder: the command is being written in its own change.
#include <CLI/CLI.hpp>

#include "agent/commands.hpp"

namespace certagent::agent {

void register_policy_command(CLI::App& /*app*/, GlobalOptions& /*globals*/, int& /*exit_code*/) {}

}  // namespace certagent::agent
