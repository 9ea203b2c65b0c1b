#include "agent/daemon/run_agent.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "agent/daemon/daemon.hpp"
#include "agent/daemon/owed_retry.hpp"
#include "agent/store/logging.hpp"

namespace certagent::agent {

namespace {

Result<DaemonOptions> daemon_options(const GlobalOptions& globals, const RunOptions& options) {
  DaemonOptions d;
  d.policy_file = globals.policy;
  d.state_dir = globals.state_dir;
  d.once = options.once;
  d.retry_now = options.now;
  if (!options.metrics_listen.empty()) {
    if (options.once) return fail(ErrorKind::Invalid, "--metrics-listen has no use with --once");
    auto address = parse_listen_address(options.metrics_listen, options.metrics_allow_remote);
    if (!address) return std::unexpected(address.error());
    d.metrics = *address;
  } else if (options.metrics_allow_remote) {
    return fail(ErrorKind::Invalid, "--metrics-allow-remote needs --metrics-listen");
  }
  d.watchdog = watchdog_from_environment();
  return d;
}

}  // namespace

int run_agent(const GlobalOptions& globals, const RunOptions& options, const PassFactory& make) {
  auto log = module_logger("daemon");
  auto daemon = daemon_options(globals, options);
  if (!daemon) {
    log->error("{}", daemon.error().message);
    return kExitUsage;
  }
  auto notifier = Notifier::from_environment();
  unset_notify_environment();
  if (!notifier) {
    log->warn("not notifying systemd: {}", notifier.error().message);
    notifier = Notifier{};
  }
  auto pass = make(globals);
  if (!pass) {
    log->error("cannot start: {}", pass.error().message);
    return kExitFailed;
  }
  // The daemon comes back for consumers still owed a notification (owed_retry.hpp).
  const PassFn run = options.once ? *pass : retrying_owed_notifications(*pass, globals.state_dir);
  const DaemonResult result = run_daemon(*daemon, run, *notifier);
  if (result.pass_abandoned) {
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    std::_Exit(result.exit_code);
  }
  return result.exit_code;
}

}  // namespace certagent::agent
