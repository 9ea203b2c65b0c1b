#pragma once
// ACME problem documents (RFC 7807, RFC 8555 §6.7) and the typed errors they become.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "protocol/http/http.hpp"

namespace certagent::protocol {

inline constexpr std::string_view kAcmeErrorPrefix = "urn:ietf:params:acme:error:";

struct Subproblem {  // §6.7.1
  std::string type;
  std::string detail;      // sanitized
  std::string identifier;  // the identifier's value, sanitized; empty when absent
};

struct Problem {
  std::string type;    // full URN as sent (sanitized); "about:blank" when absent
  std::string detail;  // sanitized
  std::optional<int> status;
  std::vector<Subproblem> subproblems;  // capped
};

// Reads a problem document from a JSON object (anything missing is left empty).
[[nodiscard]] Problem parse_problem(const boost::json::object& obj);
// The ACME short name of a type ("badNonce" for urn:ietf:params:acme:error:badNonce), or the type itself.
[[nodiscard]] std::string_view short_type(std::string_view type);

// The ErrorKind and retryability of an ACME problem type (short or full).
struct ProblemClass {
  ErrorKind kind;
  bool retryable;
};
[[nodiscard]] ProblemClass classify_problem(std::string_view type, int http_status);

// The typed error for an error response: problem document when there is one
// (application/problem+json), else the HTTP status. `doing` says what was
// being done ("creating the order"). The message carries the CA's detail and
// subproblems, sanitized.
[[nodiscard]] Error error_from_response(const HttpResponse& response, std::string_view doing,
                                        std::optional<std::chrono::seconds> retry_after);

}  // namespace certagent::protocol
