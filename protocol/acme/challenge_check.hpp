#pragma once
// Checks every solver applies to what the CA sent before acting on it:
// a token is untrusted text until it is known to be short base64url.
#include <cstddef>
#include <string_view>

#include "common/error.hpp"
#include "protocol/acme/challenge.hpp"

namespace certagent::protocol {

inline constexpr std::size_t kMaxTokenLength = 256;  // RFC 8555 tokens are ~43 characters

// base64url (no padding), 1..kMaxTokenLength characters. ErrorKind::Protocol.
[[nodiscard]] Result<void> check_token(std::string_view token);

// For http-01 solvers: type "http-01" (or empty), a valid token, and a key
// authorization of the form "<token>.<base64url thumbprint>" (§8.1).
[[nodiscard]] Result<void> check_http01_task(const ChallengeTask& task);

}  // namespace certagent::protocol
