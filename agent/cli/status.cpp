// `certagent status [--json]`: each certificate, its purposes and what is bound to them, the
// next renewal and the back-off, read from the state directory (no lock, no network).
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>

#include "agent/cli/commands.hpp"
#include "agent/cli/status_report.hpp"

namespace certagent::agent {

namespace {

int run_status(const GlobalOptions& globals) {
  auto report = gather_status(globals.state_dir);
  if (!report) {
    std::cerr << "certagent: status: " << report.error().message << "\n";
    return kExitFailed;
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  std::cout << (globals.json ? render_status_json(*report, now) : render_status_text(*report, now));
  return kExitOk;
}

}  // namespace

void register_status_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* cmd = app.add_subcommand("status", "Show each certificate, its bound purposes, next renewal and back-off "
                                           "(from the state directory)");
  cmd->fallthrough();  // `status --json` as well as `--json status`: the global options
  cmd->callback([&globals, &exit_code] { exit_code = run_status(globals); });
}

}  // namespace certagent::agent
