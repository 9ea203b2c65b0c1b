#pragma once
// Durations the engine takes from its environment — settings for tests and demonstrations,
// never for production (each logs a warning once when in effect, and docs/renewal.md names them):
//   CERTAGENT_BACKOFF_INITIAL=<seconds>   the first step of the transient-failure back-off
//   CERTAGENT_ARI_RECHECK_MAX=<seconds>   the longest wait before renewal information is asked again
#include <optional>
#include <string_view>

#include "policy/renewal.hpp"

namespace certagent::agent {

// The variable's value when it is a whole number of seconds in [min, max]; otherwise nothing,
// with a warning when it is set but not such a number. `effect` completes the warning that
// says the setting is in effect ("<name>: <effect with {} for the seconds>"), given once.
[[nodiscard]] std::optional<Seconds> seconds_from_environment(const char* name, Seconds min, Seconds max,
                                                              std::string_view effect);

}  // namespace certagent::agent
