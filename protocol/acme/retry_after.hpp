#pragma once
// Retry-After (RFC 9110 §10.2.3), as ACME servers send it on 429, 503, on
// `processing` orders and with renewalInfo (RFC 8555 §6.6, §7.1.3; RFC 9773).
// Pure: `now` is a parameter. A hostile CA may send "0" forever or thirty
// years; parse, then bound the delay with clamp_retry_after before waiting.
#include <chrono>
#include <string_view>

#include "common/error.hpp"

namespace certagent::protocol {

// The delay the value asks for, relative to `now`: delta-seconds ("120"), or an
// HTTP-date in IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), obsolete RFC 850
// ("Sunday, 06-Nov-94 08:49:37 GMT") or asctime ("Sun Nov  6 08:49:37 1994")
// form. A date in the past gives 0 s. Surrounding spaces are allowed; anything
// else (signs, fractions, other zones, impossible dates, trailing text) is
// refused with ErrorKind::Protocol. Enormous delta-seconds saturate at
// kRetryAfterSaturation rather than overflow.
[[nodiscard]] Result<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                             std::chrono::system_clock::time_point now);

// Larger delays than this are reported as this (about 317 years).
inline constexpr std::chrono::seconds kRetryAfterSaturation{10'000'000'000};

// Bounds a delay to [min_delay, max_delay], so that "0" cannot make us hammer
// the CA and "thirty years" cannot park us forever. Requires min <= max.
[[nodiscard]] constexpr std::chrono::seconds clamp_retry_after(std::chrono::seconds delay,
                                                               std::chrono::seconds min_delay,
                                                               std::chrono::seconds max_delay) {
  if (delay < min_delay) return min_delay;
  if (delay > max_delay) return max_delay;
  return delay;
}

}  // namespace certagent::protocol
