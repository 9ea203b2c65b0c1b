// `certagent run [--once] [--now] [--quiet] [--metrics-listen 127.0.0.1:9464]`: the unattended agent.
// Without --once it runs until SIGTERM (agent/daemon/daemon.hpp); with --once it does one pass and
// exits with 0 (all current), 1 (something failed), 2 (invalid policy) or 3 (a purpose
// incomplete). --now: the first pass ignores the back-off waits (the operator fixed the cause).
#include <CLI/CLI.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/cli/commands.hpp"
#include "agent/cli/writer.hpp"
#include "agent/engine/engine.hpp"
#include "agent/engine/progress.hpp"
#include "agent/daemon/run_agent.hpp"

namespace certagent::agent {

namespace {

// One line per certificate after `run --once`: what the pass did with it and what is bound.
std::string closing_summary(const PassSummary& s) {
  if (s.policy_error) return "";  // the error says it all
  std::string out;
  std::map<std::string_view, const IssuanceAttempt*> attempts;  // the first attempt per certificate
  for (const auto& a : s.attempts) attempts.emplace(a.certificate, &a);
  for (const auto& c : s.certificates) {
    const auto found = attempts.find(c.id);
    const IssuanceAttempt* attempt = found == attempts.end() ? nullptr : found->second;
    std::vector<std::string> bound, unbound;
    std::string thumbprint;
    std::optional<std::chrono::sys_seconds> until;
    for (const auto& p : c.purposes) {
      (p.thumbprint.empty() ? unbound : bound).push_back(p.purpose);
      if (!p.thumbprint.empty()) thumbprint = p.thumbprint, until = p.not_after;
    }
    std::string what;
    if (attempt != nullptr && attempt->succeeded)
      what = attempt->action == "issue" ? "issued" : attempt->action == "renew" ? "renewed" : "reissued";
    else if (attempt != nullptr)
      what = "FAILED: " + c.last_error;
    else if (unbound.empty())
      what = "kept";
    else if (c.consecutive_failures > 0)
      what = fmt::format("backing off after {} failure(s){}", c.consecutive_failures,
                         c.next_renewal ? fmt::format(", next attempt {:%Y-%m-%d %H:%M} UTC", *c.next_renewal) : "");
    else
      what = "pending";
    out += fmt::format("{}: {}", c.id, what);
    if (!bound.empty())
      out += fmt::format(" — {} bound to {}{}", thumbprint.substr(0, 12), fmt::join(bound, ", "),
                         until ? fmt::format(" (until {:%Y-%m-%d})", *until) : "");
    if (!unbound.empty()) out += fmt::format("; unbound: {}", fmt::join(unbound, ", "));
    out += "\n";
  }
  return out;
}

}  // namespace

void register_run_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto options = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run the agent: renew ahead of expiry, reissue when the policy changes "
                                        "(systemd: Type=notify; SIGHUP reloads the policy)");
  cmd->add_flag("--once", options->once, "Do one pass and exit (exit code 3: some purpose is incomplete)");
  cmd->add_flag("--now", options->now,
                "After fixing the cause of a failure: the first pass retries at once every certificate "
                "that is backing off (a success clears the back-off; a failure backs off further)");
  cmd->add_option("--metrics-listen", options->metrics_listen,
                  "Serve Prometheus metrics at http://HOST:PORT/metrics (loopback only, e.g. 127.0.0.1:9464)");
  cmd->add_flag("--metrics-allow-remote", options->metrics_allow_remote,
                "Allow a non-loopback --metrics-listen address (the endpoint has no authentication)");
  auto quiet = std::make_shared<bool>(false);
  cmd->add_flag("--quiet", *quiet,
                "With --once on a terminal: no progress line on stderr (it is shown only when stderr is a "
                "terminal)");
  cmd->fallthrough();  // `run -v` as well as `-v run`: the global options
  cmd->callback([options, quiet, &globals, &exit_code] {
    if (options->once && !*quiet && ::isatty(STDERR_FILENO) == 1) enable_terminal_progress();
    exit_code = run_agent(globals, *options, [once = options->once](const GlobalOptions& g) -> Result<PassFn> {
      auto pass = make_pass(g, !once);
      if (!pass || !once) return pass;
      return PassFn([pass = std::move(*pass), dir = g.state_dir](const PassRequest& r) {
        auto summary = pass(r);
        std::cout << closing_summary(summary);  // for people; the log stays on stderr
        notify_daemon_after_writing(dir);       // the service, if one runs, acts on what this pass changed
        return summary;
      });
    });
  });
}

}  // namespace certagent::agent
