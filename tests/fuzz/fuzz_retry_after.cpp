// protocol::parse_retry_after (RFC 9110 §10.2.3). Invariants: a delay is never negative nor
// above kRetryAfterSaturation; whether a value parses does not depend on `now` (within one
// year); delta-seconds do not depend on `now` at all, and an HTTP-date's delay shrinks by
// exactly the time that passed (down to 0).
#include "fuzz_check.hpp"
#include "protocol/acme/retry_after.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  using namespace std::chrono;
  const std::string_view value = certagent::fuzz::as_text(data, size);
  const system_clock::time_point now = sys_days{year{2025} / June / 15} + hours{12};
  const seconds later{86400};
  auto delay = p::parse_retry_after(value, now);
  auto delay_later = p::parse_retry_after(value, now + later);
  FUZZ_CHECK(delay.has_value() == delay_later.has_value());
  if (!delay) {
    FUZZ_CHECK(delay.error().kind == certagent::ErrorKind::Protocol);
    FUZZ_CHECK(certagent::fuzz::clean_message(delay.error().message));
    return 0;
  }
  FUZZ_CHECK(*delay >= seconds{0} && *delay <= p::kRetryAfterSaturation);
  std::string_view trimmed = value;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
  const bool is_delta = !trimmed.empty() && trimmed.front() >= '0' && trimmed.front() <= '9';
  if (is_delta || *delay == p::kRetryAfterSaturation) {
    FUZZ_CHECK(*delay_later == *delay);
  } else {
    FUZZ_CHECK(*delay_later == std::max(seconds{0}, *delay - later));
  }
  const auto clamped = p::clamp_retry_after(*delay, seconds{1}, seconds{7 * 86400});
  FUZZ_CHECK(clamped >= seconds{1} && clamped <= seconds{7 * 86400});
  return 0;
}
