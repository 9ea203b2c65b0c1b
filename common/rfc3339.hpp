#pragma once
// RFC 3339 §5.6 date-times: the one parser and the one formatter, for the state directory's
// files and for what CAs send (ARI windows, order expiry).
#include <chrono>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent {

// "2025-01-02T04:00:00Z", "2025-01-02T05:30:00.123+01:30", 't' and 'z' in either case.
// Fractions are dropped; a leap second (:60) is read as :59 of its minute. Invalid, quoting the
// text (escaped, at most 40 bytes), for anything else: signs or empty fractions where the grammar
// has digits, dates that do not exist, offsets of 24 hours or more.
[[nodiscard]] Result<std::chrono::sys_seconds> parse_rfc3339(std::string_view text);

// "2025-03-01T12:00:00Z" (UTC, whole seconds).
[[nodiscard]] std::string format_rfc3339(std::chrono::sys_seconds t);

}  // namespace certagent
