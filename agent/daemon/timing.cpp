// The pure parts of the daemon loop: exit codes, sleep clamping, merging queued triggers.
#include <algorithm>

#include "agent/engine/options.hpp"
#include "agent/daemon/daemon.hpp"

namespace certagent::agent {

int once_exit_code(const PassSummary& summary) {
  if (summary.policy_error) return kExitUsage;
  if (summary.failed) return kExitFailed;
  if (summary.incomplete) return kExitIncomplete;
  return kExitOk;
}

std::chrono::milliseconds sleep_duration(std::optional<std::chrono::sys_seconds> next_wake,
                                         std::chrono::system_clock::time_point now, std::chrono::seconds min,
                                         std::chrono::seconds max) {
  if (!next_wake) return max;
  const auto until = std::chrono::ceil<std::chrono::milliseconds>(*next_wake - now);
  return std::clamp<std::chrono::milliseconds>(until, min, max);
}

WakeReason merge_reasons(WakeReason queued, WakeReason incoming) {
  const auto rank = [](WakeReason r) {
    switch (r) {
      case WakeReason::Startup: return 0;
      case WakeReason::Timer: return 1;
      case WakeReason::Reload: return 2;
      case WakeReason::PolicyChanged: return 3;
    }
    return 0;
  };
  return rank(incoming) > rank(queued) ? incoming : queued;
}

}  // namespace certagent::agent
