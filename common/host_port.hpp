#pragma once
// "HOST:PORT", ":PORT" and "[IPv6]:PORT": the one parser for every listen address certagent
// takes (the policy's http-01 `listen`, `acme issue --http-01-listen`, `run --metrics-listen`).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent {

struct HostPort {
  std::string host;        // without brackets; empty for ":PORT"
  std::uint16_t port = 0;  // 0 to 65535; callers that cannot listen on 0 say so
};

// Invalid, with what is wrong and the forms that are right (the caller adds which address it
// was): no port, a port that is not 0-65535, or an IPv6 address without its brackets.
[[nodiscard]] Result<HostPort> parse_host_port(std::string_view text);

}  // namespace certagent
