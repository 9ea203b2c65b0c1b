#include "common/escape.hpp"
#include "protocol/acme/problem.hpp"

#include <array>
#include <utility>

#include <boost/json/serialize.hpp>

#include "protocol/acme/json.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

constexpr size_t kMaxSubproblems = 20;  // shown in a message; the rest are counted

struct KindRow {
  std::string_view type;
  ErrorKind kind;
  bool retryable;
};

// RFC 8555 §6.7 (and RFC 9773 / drafts where noted): what each type means for the caller.
constexpr std::array kKinds = {
    KindRow{"badNonce", ErrorKind::BadNonce, true},
    KindRow{"rateLimited", ErrorKind::RateLimited, true},
    KindRow{"serverInternal", ErrorKind::ServerInternal, true},
    KindRow{"unauthorized", ErrorKind::Unauthorized, false},
    KindRow{"accountDoesNotExist", ErrorKind::Unauthorized, false},
    KindRow{"externalAccountRequired", ErrorKind::Unauthorized, false},
    KindRow{"userActionRequired", ErrorKind::Unauthorized, false},
    KindRow{"rejectedIdentifier", ErrorKind::Rejected, false},
    KindRow{"unsupportedIdentifier", ErrorKind::Rejected, false},
    KindRow{"caa", ErrorKind::Rejected, false},
    KindRow{"badCSR", ErrorKind::Rejected, false},
    KindRow{"badPublicKey", ErrorKind::Rejected, false},
    KindRow{"badSignatureAlgorithm", ErrorKind::Rejected, false},
    KindRow{"badRevocationReason", ErrorKind::Rejected, false},
    KindRow{"alreadyRevoked", ErrorKind::Rejected, false},
    KindRow{"invalidContact", ErrorKind::Rejected, false},
    KindRow{"unsupportedContact", ErrorKind::Rejected, false},
    KindRow{"invalidProfile", ErrorKind::Rejected, false},
    KindRow{"alreadyReplaced", ErrorKind::Rejected, false},
    // Validation failures: the responder may be reachable next time.
    KindRow{"connection", ErrorKind::Unauthorized, true},
    KindRow{"dns", ErrorKind::Unauthorized, true},
    KindRow{"tls", ErrorKind::Unauthorized, true},
    KindRow{"incorrectResponse", ErrorKind::Unauthorized, true},
    KindRow{"orderNotReady", ErrorKind::Protocol, true},
    KindRow{"malformed", ErrorKind::Protocol, false},
};

ProblemClass classify_status(int status) {
  if (status == 429 || status == 503) return {ErrorKind::RateLimited, true};
  if (status >= 500) return {ErrorKind::ServerInternal, true};
  if (status == 401 || status == 403) return {ErrorKind::Unauthorized, false};
  return {ErrorKind::Protocol, false};
}

std::string describe(const Problem& p) {
  std::string text = std::string(short_type(p.type));
  if (!p.detail.empty()) text += ": " + p.detail;
  size_t shown = 0;
  for (const auto& sub : p.subproblems) {
    text += shown == 0 ? " [" : "; ";
    if (!sub.identifier.empty()) text += sub.identifier + ": ";
    text += std::string(short_type(sub.type));
    if (!sub.detail.empty()) text += ": " + sub.detail;
    ++shown;
  }
  if (shown > 0) text += "]";
  return text;
}

}  // namespace

std::string_view short_type(std::string_view type) {
  if (type.starts_with(kAcmeErrorPrefix)) return type.substr(kAcmeErrorPrefix.size());
  return type;
}

ProblemClass classify_problem(std::string_view type, int http_status) {
  std::string_view name = short_type(type);
  for (const auto& row : kKinds)
    if (type.starts_with(kAcmeErrorPrefix) && row.type == name) return {row.kind, row.retryable};
  return classify_status(http_status);
}

Problem parse_problem(const json::object& obj) {
  Problem p;
  p.type = escape_control(string_member(obj, "type").value_or("about:blank"), 200);
  p.detail = escape_control(string_member(obj, "detail").value_or(""), 300);
  if (const auto* s = obj.if_contains("status"); s != nullptr && s->is_int64()) p.status = static_cast<int>(s->as_int64());
  const auto* subs = obj.if_contains("subproblems");
  if (subs == nullptr || !subs->is_array()) return p;
  for (const auto& item : subs->as_array()) {
    if (!item.is_object() || p.subproblems.size() >= kMaxSubproblems) continue;
    const auto& o = item.as_object();
    Subproblem sub{escape_control(string_member(o, "type").value_or(""), 200),
                   escape_control(string_member(o, "detail").value_or(""), 300), ""};
    if (const auto* id = o.if_contains("identifier"); id != nullptr && id->is_object())
      sub.identifier = escape_control(string_member(id->as_object(), "value").value_or(""), 255);
    p.subproblems.push_back(std::move(sub));
  }
  return p;
}

Error error_from_response(const HttpResponse& response, std::string_view doing,
                          std::optional<std::chrono::seconds> retry_after) {
  std::string what = std::string(doing) + ": the CA answered HTTP " + std::to_string(response.status);
  auto content_type = response.header("Content-Type").value_or("");
  Error err;
  if (content_type.starts_with("application/problem+json")) {
    auto obj = parse_json_object(response.body, "problem document");
    if (!obj) return std::move(obj.error()).context(what);
    Problem p = parse_problem(*obj);
    auto cls = classify_problem(p.type, response.status);
    // A compound problem takes the class of its first subproblem that has one.
    if (short_type(p.type) == "compound" && !p.subproblems.empty())
      cls = classify_problem(p.subproblems.front().type, response.status);
    err = Error(cls.kind, what + ": " + describe(p), cls.retryable);
    err.problem_type = p.type;
    err.problem_json = json::serialize(*obj);
  } else {
    auto cls = classify_status(response.status);
    err = Error(cls.kind, what + " without a problem document", cls.retryable);
  }
  err.retry_after = retry_after;
  if (retry_after) err.retryable = true;
  return err;
}

}  // namespace certagent::protocol
