// protocol::parse_authorization (RFC 8555 §7.1.4) on a JSON body. Invariants: an accepted
// authorization has a known status, an identifier with a type and a value, at most
// kMaxChallengesPerAuthorization challenges, each with a type, a URL and a known status, and
// any challenge error as clean text; a refusal is a Protocol error with a clean message.
#include <set>

#include "fuzz_check.hpp"
#include "protocol/acme/json.hpp"
#include "protocol/acme/order.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  using certagent::fuzz::clean_text;
  auto obj = p::parse_json_object(certagent::fuzz::as_text(data, size), "authorization");
  if (!obj) return 0;  // parse_json_object is covered by the order target
  auto authz = p::parse_authorization(*obj, "https://ca.example/acme/authz/1");
  if (!authz) {
    FUZZ_CHECK(authz.error().kind == certagent::ErrorKind::Protocol);
    FUZZ_CHECK(clean_text(authz.error().message) && !authz.error().message.empty());
    return 0;
  }
  static const std::set<std::string> states = {"pending", "valid", "invalid", "deactivated", "expired", "revoked"};
  static const std::set<std::string> challenge_states = {"pending", "processing", "valid", "invalid"};
  FUZZ_CHECK(states.contains(authz->status));
  FUZZ_CHECK(!authz->identifier.type.empty() && !authz->identifier.value.empty());
  FUZZ_CHECK(authz->challenges.size() <= p::kMaxChallengesPerAuthorization);
  for (const auto& c : authz->challenges) {
    FUZZ_CHECK(!c.type.empty() && !c.url.empty() && challenge_states.contains(c.status));
    if (c.error) FUZZ_CHECK(clean_text(c.error->type) && clean_text(c.error->detail));
  }
  return 0;
}
