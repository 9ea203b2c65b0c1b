// protocol::parse_problem and error_from_response (RFC 7807, RFC 8555 §6.7): the CA's error
// documents, whose text ends up in logs. The first input byte picks the HTTP status, the rest
// is the body. Invariants: every string of the problem is clean text (no terminal controls)
// and capped (at 4 bytes of output per byte of the cut input); at most 20 subproblems; the resulting error's message is clean text and names
// what was being done; a rate limit or server error is retryable.
#include <array>

#include "fuzz_check.hpp"
#include "protocol/acme/json.hpp"
#include "protocol/acme/problem.hpp"

namespace {

constexpr std::array<int, 8> kStatuses = {400, 401, 403, 404, 429, 500, 503, 200};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  using certagent::fuzz::clean_text;
  if (size == 0) return 0;
  const std::string_view body = certagent::fuzz::as_text(data + 1, size - 1);
  if (auto obj = p::parse_json_object(body, "problem document")) {
    const p::Problem problem = p::parse_problem(*obj);
    // escape_control cuts the input at 200 / 300 bytes; an escape writes at most 4 bytes for each
    // byte it replaces (\xNN for one, \u{NNNN} for a two-byte C1 control), and "..." ends a cut.
    FUZZ_CHECK(clean_text(problem.type) && problem.type.size() <= 4 * 200 + 3);
    FUZZ_CHECK(clean_text(problem.detail) && problem.detail.size() <= 4 * 300 + 3);
    FUZZ_CHECK(problem.subproblems.size() <= 20);
    for (const auto& sub : problem.subproblems)
      FUZZ_CHECK(clean_text(sub.type) && clean_text(sub.detail) && clean_text(sub.identifier));
  }
  p::HttpResponse response;
  response.status = kStatuses[data[0] % kStatuses.size()];
  response.headers.push_back({"Content-Type", data[0] & 0x80 ? "application/json" : "application/problem+json"});
  response.body = std::string(body);
  const certagent::Error error = p::error_from_response(response, "creating the order", std::nullopt);
  FUZZ_CHECK(error.message.starts_with("creating the order: the CA answered HTTP "));
  FUZZ_CHECK(clean_text(error.message));
  if (error.kind == certagent::ErrorKind::RateLimited || error.kind == certagent::ErrorKind::ServerInternal)
    FUZZ_CHECK(error.retryable);
  return 0;
}
