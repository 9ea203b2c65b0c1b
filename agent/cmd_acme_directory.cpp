// Registration placeholder: the command is being written in its own change.
#include <CLI/CLI.hpp>

#include "agent/commands.hpp"

namespace certagent::agent {

void register_acme_directory_command(CLI::App& /*acme*/, GlobalOptions& /*globals*/, int& /*exit_code*/) {}

}  // namespace certagent::agent
