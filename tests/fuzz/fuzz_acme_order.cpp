// protocol::parse_order (RFC 8555 §7.1.3) on a JSON body. Invariants: an accepted order has a
// known status, at most kMaxOrderIdentifiers identifiers and authorizations, every identifier
// with a type and a value, a finalize URL, and any error document as clean text; a refusal is
// a Protocol error with a clean message.
#include <set>

#include "fuzz_check.hpp"
#include "protocol/acme/json.hpp"
#include "protocol/acme/order.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  using certagent::fuzz::clean_text;
  auto obj = p::parse_json_object(certagent::fuzz::as_text(data, size), "order");
  if (!obj) {
    FUZZ_CHECK(obj.error().kind == certagent::ErrorKind::Protocol && clean_text(obj.error().message));
    return 0;
  }
  auto order = p::parse_order(*obj, "https://ca.example/acme/order/1");
  if (!order) {
    FUZZ_CHECK(order.error().kind == certagent::ErrorKind::Protocol);
    FUZZ_CHECK(clean_text(order.error().message) && !order.error().message.empty());
    return 0;
  }
  static const std::set<std::string> states = {"pending", "ready", "processing", "valid", "invalid"};
  FUZZ_CHECK(states.contains(order->status));
  FUZZ_CHECK(order->identifiers.size() <= p::kMaxOrderIdentifiers);
  FUZZ_CHECK(order->authorizations.size() <= p::kMaxOrderIdentifiers);
  for (const auto& id : order->identifiers) FUZZ_CHECK(!id.type.empty() && !id.value.empty());
  FUZZ_CHECK(!order->finalize.empty());
  if (order->error) FUZZ_CHECK(clean_text(order->error->type) && clean_text(order->error->detail));
  return 0;
}
