#pragma once
// HTTPS through an HTTP proxy, as curl does it: the proxy from `https_proxy`
// (or `HTTPS_PROXY`), hosts in `no_proxy` (or `NO_PROXY`) reached directly,
// and a CONNECT tunnel (RFC 9110 §9.3.6) through which TLS runs end to end —
// the proxy never sees the CA's traffic, and the CA's certificate is verified
// as without a proxy. Credentials in the proxy URL (`http://user:pass@host:port`)
// go out as `Proxy-Authorization: Basic`; they never appear in a message.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "protocol/http_wire.hpp"
#include "protocol/io_budget.hpp"

namespace certagent::protocol {

struct ProxyConfig {
  std::string host;
  std::uint16_t port = 1080;  // curl's default for a proxy URL without a port
  std::string credentials;    // "user:password", percent-decoded; empty: none
  // host:port, for messages (never the credentials)
  [[nodiscard]] std::string where() const;
};

// `[http://][user[:password]@]host[:port][/]`. Empty text: no proxy. Other
// schemes (https://, socks5://) are refused (Invalid): this client speaks
// plain HTTP to the proxy.
[[nodiscard]] Result<std::optional<ProxyConfig>> parse_proxy_url(std::string_view url);

// True when `no_proxy` (comma-separated; "*" for every host; entries match
// the host itself or, as a domain, any name under it — ".example.org" and
// "example.org" alike; IP addresses match exactly; case-insensitive) says to
// reach `host` directly.
[[nodiscard]] bool bypasses_proxy(std::string_view no_proxy, std::string_view host);

// The proxy settings of the environment: https_proxy, else HTTPS_PROXY;
// no_proxy, else NO_PROXY (lower case first, as curl reads them).
struct ProxyEnvironment {
  std::string proxy;
  std::string no_proxy;
};
[[nodiscard]] ProxyEnvironment proxy_environment();

// Asks the proxy on `fd` for a tunnel to `target` (CONNECT host:port) and reads
// its answer; any 2xx opens the tunnel. A refusal is Transport: retryable
// unless the proxy denied it (403) or wants other credentials (407).
[[nodiscard]] Result<void> open_tunnel(int fd, const ProxyConfig& proxy, const UrlParts& target,
                                       std::string_view user_agent, std::size_t max_header_bytes, IoBudget& budget);

}  // namespace certagent::protocol
