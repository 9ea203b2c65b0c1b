#include "agent/cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <iostream>

#include "agent/cli/commands.hpp"
#include "common/version.hpp"

namespace certagent::agent {

namespace {

constexpr const char* kFooter = R"(Exit codes:
  0  done (for `run --once`: every purpose is bound to a current certificate
     that carries every name the policy requires)
  1  the operation failed (CA, network, storage or hook error)
  2  bad command line or invalid policy
  3  `run --once` finished but some purpose is unbound, expired or lacks a name
     (one backing off after failures: fix the cause, then `run --once --now`)

Lync Server cmdlets and their certagent counterparts:
  Get-CsCertificate      certagent certs     (every SAN, and what is missing)
  Request-CsCertificate  certagent request   (key + CSR + ACME order)
  Set-CsCertificate      certagent assign    (refuses a certificate lacking names)

Files: policy /etc/certagent/policy.json, state /var/lib/certagent.
Docs: /usr/share/doc/certagent (policy.md, operations.md).)";

void set_verbosity(int v) {
  spdlog::set_level(v >= 2 ? spdlog::level::trace : v == 1 ? spdlog::level::debug : spdlog::level::info);
}

}  // namespace

void register_commands(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  register_init_command(app, globals, exit_code);
  register_plan_command(app, globals, exit_code);
  register_policy_command(app, globals, exit_code);
  register_acme_command(app, globals, exit_code);
  register_certs_command(app, globals, exit_code);
  register_request_command(app, globals, exit_code);
  register_assign_command(app, globals, exit_code);
  register_revoke_command(app, globals, exit_code);
  register_run_command(app, globals, exit_code);
  register_status_command(app, globals, exit_code);
  register_completion_command(app, globals, exit_code);
  // Every global option (--policy, --state-dir, --json, -v) before or after any subcommand:
  // `certagent certs --json` as well as `certagent --json certs`.
  std::function<void(CLI::App&)> fall_through = [&](CLI::App& parent) {
    for (CLI::App* sub : parent.get_subcommands([](CLI::App*) { return true; })) {
      sub->fallthrough();
      fall_through(*sub);
    }
  };
  fall_through(app);
}

int run_cli(int argc, char** argv) {
  try {
    CLI::App app{"certagent — keeps a server's certificates issued, complete and bound.\n"
                 "Computes the names each purpose needs from a policy, obtains certificates\n"
                 "over ACME (RFC 8555) and renews them before they expire.",
                 "certagent"};
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("certagent ") + kVersion);
    app.require_subcommand(0, 1);

    GlobalOptions globals;
    app.add_option("--policy", globals.policy, "Policy file (JSON; comments and trailing commas allowed)")
        ->capture_default_str();
    app.add_option("--state-dir", globals.state_dir, "State directory (accounts, keys, certificates, bindings)")
        ->capture_default_str();
    app.add_flag("--json", globals.json, "Machine-readable output");
    app.add_flag("-v,--verbose", globals.verbosity, "More detail; repeat for more (-vv)");

    int exit_code = kExitOk;
    register_commands(app, globals, exit_code);
    app.parse_complete_callback([&] { set_verbosity(globals.verbosity); });

    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      app.exit(e);
      return kExitUsage;
    }
    if (app.get_subcommands().empty()) {
      std::cout << app.help();
      return kExitUsage;
    }
    return exit_code;
  } catch (const std::exception& e) {
    std::cerr << "certagent: internal error: " << e.what() << "\n";
    return kExitFailed;
  }
}

}  // namespace certagent::agent
