#pragma once
// Fault points: named places in the crash-safe write paths where a test can
// make the operation fail (as a full disk would) or kill the process (as a
// SIGKILL or power loss would). Production code only calls fault_point().
#include <functional>
#include <string_view>

namespace certagent::agent {

// Returns true when the operation must fail at `point`. The injector may also
// never return (raise(SIGKILL)) to simulate a crash at that point.
using FaultInjector = std::function<bool(std::string_view point)>;

// Installs (or, with an empty function, removes) the process-wide injector.
// Tests only; not thread-safe against concurrent fault_point() calls.
void set_fault_injector(FaultInjector injector);

// Called at each named point. Also honours CERTAGENT_FAULT_KILL=<point> in
// the environment (the process SIGKILLs itself there; "<point>@N": the Nth
// time it is reached), so integration tests can crash the real binary at a
// chosen step. Only in builds with CERTAGENT_FAULT_INJECTION (the default where
// the tests are built); elsewhere it is always false and reads nothing.
[[nodiscard]] bool fault_point(std::string_view point);

}  // namespace certagent::agent
