#pragma once
// Output files the policy names for a purpose whose binding does not change
// (e.g. an output added to the policy after the certificate was bound): a
// pass writes the ones that are missing from the version already bound.
#include "agent/engine/work.hpp"

namespace certagent::agent {

// For each purpose with outputs that is bound to a complete version and
// lacks at least one of its output files: binds that same version again
// (rebind(): outputs staged and committed, hooks run with action "bind",
// old and new thumbprint equal). Failures are logged, not returned: the
// binding itself is unchanged. Existing files are not compared or rewritten.
// Returns how many purposes it bound again (0: it changed nothing in the state directory).
std::size_t write_missing_outputs(EngineContext& ctx);

}  // namespace certagent::agent
