// protocol::parse_renewal_info and parse_acme_time (RFC 9773 §4.2, RFC 3339 §5.6). The whole
// input is also tried as one date-time. Invariants: an accepted window ends after it starts
// and its explanation URL is clean text; an accepted date-time follows the grammar (digits
// where digits belong, a fraction has at least one digit); refusals are clean Protocol errors.
#include "fuzz_check.hpp"
#include "protocol/acme/ari.hpp"

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// The RFC 3339 date-time grammar, checked independently of the parser.
bool rfc3339_shaped(std::string_view s) {
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const char want = shape[i];
    if (want == 'd' ? !digit(s[i]) : want == 'T' ? (s[i] != 'T' && s[i] != 't') : s[i] != want) return false;
  }
  std::size_t i = shape.size();
  if (i < s.size() && s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && digit(s[i])) ++i;
    if (i == start) return false;
  }
  const std::string_view zone = s.substr(i);
  if (zone == "Z" || zone == "z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digit(zone[1]) && digit(zone[2]) &&
         zone[3] == ':' && digit(zone[4]) && digit(zone[5]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  using certagent::fuzz::clean_text;
  const std::string_view text = certagent::fuzz::as_text(data, size);
  if (auto t = p::parse_acme_time(text)) {
    FUZZ_CHECK(rfc3339_shaped(text));
  } else {
    FUZZ_CHECK(t.error().kind == certagent::ErrorKind::Protocol && clean_text(t.error().message));
  }
  auto info = p::parse_renewal_info(text);
  if (!info) {
    FUZZ_CHECK(info.error().kind == certagent::ErrorKind::Protocol);
    FUZZ_CHECK(clean_text(info.error().message) && !info.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(info->window_end > info->window_start);
  FUZZ_CHECK(clean_text(info->explanation_url));
  return 0;
}
