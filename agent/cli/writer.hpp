#pragma once
// The commands that write the state directory (assign, request, revoke, run --once) beside a
// running service: `certagent run` holds the writer lock only during a pass (engine.hpp's
// make_pass), so a command waits at most for the pass in progress — saying so — and afterwards
// tells the daemon to act on what it changed (SIGHUP: a pass that re-reads policy and store).
#include <string>


namespace certagent::agent {

// SIGHUP to the daemon holding <state>/daemon.lock, if one runs (a line on stderr says so).
void notify_daemon_after_writing(const std::string& state_dir);

}  // namespace certagent::agent
