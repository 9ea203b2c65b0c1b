#pragma once
// The engine's record of each certificate between passes and restarts: its
// failure back-off (agent/store/backoff.hpp) and the plan's last decision, kept in
// the daemon's schedule file <state>/schedule/<certificate-id>.json
// (agent/store/schedule.hpp), which `certagent status` reads.
#include <filesystem>
#include <optional>
#include <string_view>

#include "agent/store/backoff.hpp"
#include "agent/engine/renewal_decision.hpp"
#include "agent/store/shared.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"
#include "policy/plan.hpp"

namespace certagent::agent {

// No file: no back-off. A file the agent did not write is an error (the
// caller logs it and treats the certificate as not backed off).
[[nodiscard]] Result<BackoffState> load_backoff(const Store& store, std::string_view certificate_id);

// Writes the certificate's schedule: its purposes, when renewal is due (keep /
// renew), the random point drawn for it, the rule that set it and when the ARI
// window it used was fetched (`choice`; absent: not recorded), the plan's
// reason, and the back-off. Needs the writer lock.
// The back-off the engine uses: agent/store/backoff.hpp's defaults, except that
// CERTAGENT_BACKOFF_INITIAL=<seconds> (1..3600) shortens the first step of the
// transient-failure back-off — for tests and demonstrations of recovery, which
// would otherwise wait a minute; a warning says when it is in effect.
[[nodiscard]] BackoffPolicy engine_backoff_policy();

[[nodiscard]] Result<void> save_schedule(const StoreWriter& store, const policy::Action& action,
                                         const BackoffState& backoff, TimePoint now, std::optional<RenewalChoice> choice = std::nullopt);

}  // namespace certagent::agent
