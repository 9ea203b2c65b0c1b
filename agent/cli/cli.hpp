#pragma once
// The command line: the subcommand registry (global options and exit codes: agent/engine/options.hpp).
#include "agent/engine/options.hpp"

namespace CLI { class App; }

namespace certagent::agent {

// Each subcommand lives in its own agent/cli/<name>.cpp and registers itself
// here: it adds a CLI11 subcommand whose callback stores its exit code.
void register_commands(CLI::App& app, GlobalOptions& globals, int& exit_code);

// Parses argv and runs the chosen command; returns the process exit code.
// Never throws.
[[nodiscard]] int run_cli(int argc, char** argv);

}  // namespace certagent::agent
