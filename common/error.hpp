#pragma once
// The one error type of certagent. Every fallible run-time operation returns
// certagent::Result<T> (std::expected<T, Error>); exceptions never cross a
// module boundary. Each layer adds context on the way up with Error::context().
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <utility>

namespace certagent {

enum class ErrorKind {
  Invalid,        // bad input from the caller or the user (argument, name, file content)
  Policy,         // the policy file is malformed or inconsistent
  Crypto,         // OpenSSL refused (key, CSR, signature, certificate)
  Storage,        // file system: read, write, lock, permissions
  Transport,      // network: DNS, connect, TLS, timeout, truncated body
  Protocol,       // the CA answered something that breaks RFC 8555 / is hostile
  BadNonce,       // urn:ietf:params:acme:error:badNonce
  RateLimited,    // urn:ietf:params:acme:error:rateLimited or HTTP 429/503
  Unauthorized,   // unauthorized, externalAccountRequired, accountDoesNotExist, ...
  Rejected,       // rejectedIdentifier, badCSR, caa, ... — the CA will not issue these names
  ServerInternal, // serverInternal, HTTP 5xx
  Timeout,        // a bounded wait ran out
  Hook,           // a consumer hook failed
  Cancelled,      // the agent is shutting down
};

[[nodiscard]] constexpr const char* to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::Invalid: return "invalid";
    case ErrorKind::Policy: return "policy";
    case ErrorKind::Crypto: return "crypto";
    case ErrorKind::Storage: return "storage";
    case ErrorKind::Transport: return "transport";
    case ErrorKind::Protocol: return "protocol";
    case ErrorKind::BadNonce: return "bad-nonce";
    case ErrorKind::RateLimited: return "rate-limited";
    case ErrorKind::Unauthorized: return "unauthorized";
    case ErrorKind::Rejected: return "rejected";
    case ErrorKind::ServerInternal: return "server-internal";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Hook: return "hook";
    case ErrorKind::Cancelled: return "cancelled";
  }
  return "unknown";
}

struct Error {
  ErrorKind kind = ErrorKind::Invalid;
  std::string message;                 // human text, outermost context first
  bool retryable = false;              // can trying again (later) help?
  std::optional<std::chrono::seconds> retry_after;  // when the server said when
  std::string problem_type;            // ACME problem "type" URN, if any
  std::string problem_json;            // the raw problem document, if any (already size-capped)

  Error() = default;
  Error(ErrorKind k, std::string msg, bool retry = false)
      : kind(k), message(std::move(msg)), retryable(retry) {}

  // "while doing X: <message>"
  [[nodiscard]] Error context(const std::string& what) && {
    message = what + ": " + message;
    return std::move(*this);
  }
  [[nodiscard]] Error context(const std::string& what) const& {
    Error e = *this;
    e.message = what + ": " + e.message;
    return e;
  }
};

template <class T>
using Result = std::expected<T, Error>;

// Result<void> helper: `return ok();`
[[nodiscard]] inline Result<void> ok() { return {}; }

[[nodiscard]] inline std::unexpected<Error> fail(ErrorKind k, std::string msg, bool retry = false) {
  return std::unexpected<Error>(Error(k, std::move(msg), retry));
}

}  // namespace certagent
