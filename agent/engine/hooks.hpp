#pragma once
// Consumer hooks: executables the policy names per purpose, run after a
// binding changes. No shell: argv comes from the policy as an array and
// nothing from the CA or the certificate is ever put into it — what changed is
// told through the environment:
//   CERTAGENT_PURPOSE, CERTAGENT_PURPOSES (every purpose this run tells, space-separated:
//   a hook named on several purposes of one step runs once for them, agent/engine/rebind.hpp),
//   CERTAGENT_ACTION (bind | rollback), CERTAGENT_VERSION,
//   CERTAGENT_OLD_THUMBPRINT (empty when the purpose was unbound),
//   CERTAGENT_NEW_THUMBPRINT, CERTAGENT_CERT_PATH, CERTAGENT_KEY_PATH,
//   CERTAGENT_CHAIN_PATH, CERTAGENT_FULLCHAIN_PATH (the stable live/ paths),
//   CERTAGENT_NAMES (the certificate's DNS names, space-separated)
// plus PATH from the agent's environment. Nothing else is inherited.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace certagent::agent {

struct Hook {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in PATH
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

enum class HookAction { Bind, Rollback };

struct HookEvent {
  std::string purpose;
  HookAction action = HookAction::Bind;
  std::string version_id;      // the version now bound
  std::string old_thumbprint;  // empty when the purpose was unbound
  std::string new_thumbprint;
  std::filesystem::path live_dir;  // <state>/live/<purpose>
  std::vector<std::string> names;
  std::vector<std::string> purposes;  // every purpose this run tells; empty: `purpose` alone
};

// "KEY=VALUE" strings, exactly what a hook receives (PATH is added by the runner).
[[nodiscard]] std::vector<std::string> hook_environment(const HookEvent& event);

// Runs the hooks in order, logging each one's outcome and output (escaped) on
// the "hooks" logger. Stops at the first that fails (non-zero exit, signal,
// timeout, or cannot start) and returns an Error of kind Hook naming it, how it
// ended and the end of what it wrote (stderr, else stdout; at most 600 bytes); when
// the hook's output says it was refused for lack of privilege, the message
// says so and how to grant it (agent/engine/privilege.hpp).
[[nodiscard]] Result<void> run_hooks(const std::vector<Hook>& hooks, const HookEvent& event);

}  // namespace certagent::agent
