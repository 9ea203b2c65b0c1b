// policy::parse_policy — the operator's policy file (JSON with comments and trailing commas),
// and policy::required_certificates on what it accepts. Invariants: a refusal is one line
// "policy.json:LINE:COLUMN: ..." pointing inside the text, without control characters (C0,
// DEL or C1) and valid UTF-8; an accepted policy yields certificates with unique ids whose
// names are normalized DNS names (normalizing again changes nothing), each at most once.
#include <algorithm>
#include <set>

#include "common/dns_name.hpp"
#include "fuzz_check.hpp"
#include "policy/parse.hpp"
#include "policy/required.hpp"

namespace {

constexpr std::string_view kFile = "policy.json";

// "LINE:COLUMN: " after the file name; both at least 1, the line inside the text.
bool located_inside(std::string_view message, std::string_view text) {
  if (!message.starts_with(kFile) || message.size() <= kFile.size() || message[kFile.size()] != ':') return false;
  std::size_t i = kFile.size() + 1;
  long numbers[2] = {0, 0};
  for (long& n : numbers) {
    const std::size_t start = i;
    while (i < message.size() && message[i] >= '0' && message[i] <= '9' && i - start < 9)
      n = n * 10 + (message[i++] - '0');
    if (i == start || n < 1 || i >= message.size() || message[i++] != ':') return false;
  }
  const long lines = 1 + static_cast<long>(std::count(text.begin(), text.end(), '\n'));
  return numbers[0] <= lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace pol = certagent::policy;
  const std::string_view text = certagent::fuzz::as_text(data, size);
  auto policy = pol::parse_policy(text, kFile);
  if (!policy) {
    const std::string& message = policy.error().message;
    FUZZ_CHECK(located_inside(message, text));
    FUZZ_CHECK(certagent::fuzz::clean_text(message) && !message.empty());
    return 0;
  }
  std::set<std::string> ids;
  for (const auto& cert : pol::required_certificates(*policy)) {
    FUZZ_CHECK(ids.insert(cert.id).second);
    std::set<std::string> names;
    for (const auto& required : cert.names) {
      FUZZ_CHECK(names.insert(required.name).second);
      auto again = certagent::normalize_dns_name(required.name);
      FUZZ_CHECK(again && *again == required.name);
    }
  }
  return 0;
}
