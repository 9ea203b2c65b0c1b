#pragma once
// The engine's entry point for `certagent run`: builds the function that does one pass
// (plan -> issue / renew / reissue / rebind through ACME and the store) for these options.
// The daemon loop (agent/daemon/daemon.hpp) calls it on a worker thread; the contract is in
// agent/engine/pass_types.hpp. `certagent run` (agent/cli/run.cpp) hands it to the daemon.
#include <chrono>

#include "agent/engine/options.hpp"
#include "agent/engine/pass_types.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

// Fails only for what no pass could fix (e.g. another certagent holds the state lock); an
// invalid policy is the pass's to report (PassSummary::policy_error), so that the daemon
// keeps running and picks up the corrected file.
//
// `daemon` (`certagent run` without --once): the process takes <state>/daemon.lock for its whole
// life (a second daemon on the same state directory fails at once, naming the first) and holds
// the writer lock <state>/lock only during a pass, so that the commands that write (assign,
// request, revoke, run --once) work beside the service: they wait at most for the pass in
// progress, then tell the daemon (SIGHUP) to act on what they changed. Without `daemon` (run
// --once), the writer lock is held for the whole run and waited for as the commands do.
[[nodiscard]] Result<PassFn> make_pass(const GlobalOptions& globals, bool daemon);

// How long a command that writes waits for the writer lock (a pass in progress may be ordering).
inline constexpr std::chrono::minutes kCommandLockWait{10};

// Store::open for writing as a command (and `run --once`) does it: at once when no one writes,
// else after a log line "waiting for the pass in progress (pid N) to finish ...", for at most
// kCommandLockWait.
[[nodiscard]] Result<Store> open_store_for_writing(const std::string& state_dir);

}  // namespace certagent::agent
