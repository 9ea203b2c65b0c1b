#pragma once
// The dns-01 solver (RFC 8555 §8.4) that delegates to an operator's hook
// executable, uacme-style: `hook add <record> <value>` to publish the TXT
// record, `hook remove <record> <value>` to withdraw it; exit 0 = done. The
// hook is run directly (common/process: argv, no shell) with a timeout, and
// every argument is checked first: the record name is a valid DNS name and the
// value is base64url, so no CA-chosen text reaches the hook unchecked.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/challenge.hpp"

namespace certagent::protocol {

struct Dns01HookOptions {
  std::filesystem::path hook;                  // the executable (a path; not looked up in PATH)
  std::vector<std::string> env;                // the hook's environment, "KEY=VALUE" each
  bool inherit_path = true;                    // also pass our PATH (when env has none)
  std::filesystem::path working_dir;           // empty: ours
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};  // per call; then SIGTERM, SIGKILL
  const std::atomic<bool>* cancel = nullptr;   // true: end a running hook (error kind Cancelled)
};

// "_acme-challenge.<identifier>" with a wildcard's "*." removed, normalised
// (lower case, no trailing dot); refuses an identifier that is not a DNS name.
[[nodiscard]] Result<std::string> dns01_record_name(std::string_view identifier);

// present() runs `hook add <record> <value>`. Errors: Invalid for a task that fails the checks
// (the hook is not run), Invalid when the hook cannot be started, Hook for a non-zero exit or a
// signal (with the hook's stderr, escaped), Timeout when it ran out of time. clean_up() runs
// `hook remove <record> <value>` for a task present() was called for (even if that failed
// half-way); any other task is a no-op. Thread-safe; calls may run concurrently.
[[nodiscard]] std::unique_ptr<ChallengeSolver> make_dns01_hook_solver(Dns01HookOptions options);

}  // namespace certagent::protocol
