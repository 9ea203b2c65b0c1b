#pragma once
// The engine's entry point for `certagent run`: builds the function that does one pass
// (plan -> issue / renew / reissue / rebind through ACME and the store) for these options.
// The daemon loop (agent/daemon/daemon.hpp) calls it on a worker thread; the contract is in
// agent/engine/pass_types.hpp. `certagent run` (agent/cli/run.cpp) hands it to the daemon.
#include "agent/engine/options.hpp"
#include "agent/engine/pass_types.hpp"
#include "common/error.hpp"

namespace certagent::agent {

// Fails only for what no pass could fix (e.g. another certagent holds the state lock); an
// invalid policy is the pass's to report (PassSummary::policy_error), so that the daemon
// keeps running and picks up the corrected file.
[[nodiscard]] Result<PassFn> make_pass(const GlobalOptions& globals);

}  // namespace certagent::agent
