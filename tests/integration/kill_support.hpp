#pragma once
// Shared by the process-fault tests: the invariants a state directory must
// keep whatever happened to the agent writing it, checked from outside (the
// real binary's `certs --json` and `status`) and from inside (Store::verify_version
// on every binding).
#include <cstddef>
#include <string>
#include <vector>

#include "engine_support.hpp"

namespace certagent::integration {

inline const std::vector<std::string> kPurposes = {"Default", "WebServicesInternal", "WebServicesExternal"};

// A shared-layout pool whose certificate needs `extra_domain` as a second SIP
// domain, with a logging hook (EngineSandbox::make_hook) on every purpose.
[[nodiscard]] PoolPolicy pool_with(const std::string& extra_domain, const std::string& hook);

struct StoreCheck {
  std::vector<std::string> failures;  // empty: every invariant held
  std::vector<std::string> thumbprints;  // per kPurposes, "" when unbound
  std::size_t verify_failures = 0;  // bindings Store::verify_version refused (key ≠ certificate, meta ≠ cert)
};

// The store loads (`certs --json` and `status` exit 0); every purpose is bound
// (when `must_be_bound`) to a complete version whose key matches its
// certificate (verify_version); a purpose bound to anything but
// `old_thumbprint` is bound to a certificate with every name the policy now
// requires (the new one, never something in between).
[[nodiscard]] StoreCheck check_store(const EngineSandbox& box, bool must_be_bound, const std::string& old_thumbprint);

// How a run ended, its stdout and stderr, for a failure message.
[[nodiscard]] std::string outcome_text(const ProcessOutcome& r);

// The value of an env var as a positive count, or `fallback`.
[[nodiscard]] std::size_t count_from_env(const char* name, std::size_t fallback);

}  // namespace certagent::integration
