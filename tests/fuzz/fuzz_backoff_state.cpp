// agent::backoff_state_from_json, which reads the persisted per-certificate back-off state
// (a file an operator or a crash may have damaged). Invariants: an accepted state writes JSON
// (to_json) that reads back to an equal state; a refusal is a Storage error that says why.
#include <boost/json.hpp>

#include "agent/store/backoff.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace a = certagent::agent;
  auto state = a::backoff_state_from_json(certagent::fuzz::as_text(data, size));
  if (!state) {
    FUZZ_CHECK(state.error().kind == certagent::ErrorKind::Storage);
    FUZZ_CHECK(certagent::fuzz::clean_message(state.error().message));
    return 0;
  }
  const std::string written = boost::json::serialize(a::to_json(*state));
  auto again = a::backoff_state_from_json(written);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *state);
  return 0;
}
