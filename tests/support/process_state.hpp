#pragma once
// What /proc says of another process (or thread), for tests that wait on its state — a signal
// taken, a thread blocked in a system call, a thread gone — instead of sleeping and hoping.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <string_view>

namespace certagent::testing {

// Is `sig` sent to `pid` and not yet taken (pending for the process or its main thread)?
[[nodiscard]] bool signal_pending(pid_t pid, int sig);
// Is thread `tid` of `pid` blocked in one of the system calls `numbers` (SYS_...)? False while it
// runs or when it is gone.
[[nodiscard]] bool blocked_in(pid_t pid, pid_t tid, std::initializer_list<long> numbers);
// Has `pid` a thread whose name (/proc/<pid>/task/<tid>/comm) is `name`?
[[nodiscard]] bool has_thread_named(pid_t pid, std::string_view name);
// Is the daemon loop of `pid` asleep between wake-ups: its main thread waiting for events
// (epoll) and no pass thread left (none named `pass_thread_name`, agent/daemon/daemon.hpp)?
// Other threads are allowed: a sanitizer's runtime has one of its own (ThreadSanitizer does).
[[nodiscard]] bool idle_in_epoll(pid_t pid, std::string_view pass_thread_name = "certagent-pass");
// Polls `done` every 10 ms until it holds, at most `limit`; whether it held.
[[nodiscard]] bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

}  // namespace certagent::testing
