#pragma once
// The seam between the daemon loop (agent/daemon/daemon.hpp) and the engine that does one pass
// (plan -> issue / renew / reissue / rebind through ACME and the store).
//
// The loop calls the PassFn on a worker thread, never two at a time, and reads nothing but
// the returned PassSummary: it sleeps until `next_wake`, prints `status_line` to systemd
// (STATUS=), logs `policy_error`, and feeds `certificates` and `attempts` to the metrics.
//
// The contract for a PassFn:
//  - It may block (network I/O) but must watch `*request.cancel`: once it is true, finish the
//    file write under way (store writes are atomic), abandon the network step, and return
//    within a few seconds. A cancelled pass returns whatever it knows; the loop exits after it.
//  - It should not throw. If it does, the loop logs the exception and tries again later
//    (after `kRetryAfterThrow`); the summary of that pass is lost.
//  - It decides what is due itself, from `request.now` and what it stored: the loop may call
//    it early (SIGHUP, a policy change, a one-day safety wake-up) and it must then do only
//    what is due. `next_wake` is the earliest time anything will be due (a renewal time, a
//    back-off's next attempt, an ARI re-check); absent means "nothing scheduled".
//  - It keeps the previous policy in force when the policy file has become invalid and says
//    so in `policy_error` ("FILE:LINE:COLUMN: message").
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace certagent::agent {

enum class WakeReason {
  Startup,        // the first pass after the daemon started (also `run --once`)
  Timer,          // the earliest next_wake of the previous pass has come
  Reload,         // SIGHUP (systemctl reload): re-read the policy
  PolicyChanged,  // the policy file was written, replaced or removed (inotify, debounced)
};

[[nodiscard]] constexpr const char* to_string(WakeReason r) {
  switch (r) {
    case WakeReason::Startup: return "startup";
    case WakeReason::Timer: return "timer";
    case WakeReason::Reload: return "reload";
    case WakeReason::PolicyChanged: return "policy-changed";
  }
  return "unknown";
}

struct PassRequest {
  WakeReason reason = WakeReason::Startup;
  std::chrono::sys_seconds now{};           // wall-clock time the pass was started
  const std::atomic<bool>* cancel = nullptr;  // never null; true: the agent is stopping
  bool retry_now = false;  // `run --now`: attempt what is due even where a back-off says wait
  // The same instant on the steady clock: an attempt that ends later is recorded at
  // now + (its end - started), so its back-off counts from its failure.
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  [[nodiscard]] bool cancelled() const { return cancel->load(std::memory_order_relaxed); }
};

// One purpose of a certificate and what is bound to it now.
struct PurposeStatus {
  std::string purpose;                                 // "Default", "WebServicesExternal", ...
  std::string thumbprint;                              // SHA-1, 40 upper-case hex; empty: unbound
  std::optional<std::chrono::sys_seconds> not_after;   // of the bound certificate
};

// One required certificate (policy::RequiredCertificate::id) after the pass.
struct CertificateStatus {
  std::string id;
  std::vector<PurposeStatus> purposes;
  std::optional<std::chrono::sys_seconds> next_renewal;  // renewal time, or the back-off's next attempt
  unsigned consecutive_failures = 0;
  std::optional<std::chrono::sys_seconds> last_success;  // last successful issuance
  std::string last_error;                                // empty: none since the last success
  bool permanent_error = false;                          // needs an operator (backoff.hpp)
  // Every purpose bound to a certificate that carries every required name and is not due
  // (the plan's action is keep); false while a purpose is unbound, lacks a name or awaits renewal.
  bool current = false;
};

// One ACME issuance the pass attempted (issue, renew or reissue), for the counters and the
// duration histogram.
struct IssuanceAttempt {
  std::string certificate;            // CertificateStatus::id
  std::string action;                 // "issue", "renew" or "reissue" (policy::to_string(ActionKind))
  bool succeeded = false;
  std::chrono::milliseconds duration{0};
};

struct PassSummary {
  std::optional<std::chrono::sys_seconds> next_wake;  // absent: nothing scheduled
  std::string status_line;                            // one line for systemd STATUS= and the log
  std::optional<std::string> policy_error;            // set: the policy file is invalid (FILE:LINE:COLUMN: ...)
  bool failed = false;      // some action of this pass failed (CA, network, storage, hook)
  std::optional<ErrorKind> error_kind;  // set: the pass as a whole failed (e.g. the store could not be read)
  bool incomplete = false;  // some purpose is unbound, expired or lacks a required name
  std::vector<CertificateStatus> certificates;
  std::vector<IssuanceAttempt> attempts;              // this pass's attempts only
};

using PassFn = std::function<PassSummary(const PassRequest&)>;

// The loop's retry delay after a PassFn threw.
inline constexpr std::chrono::seconds kRetryAfterThrow{300};

}  // namespace certagent::agent
