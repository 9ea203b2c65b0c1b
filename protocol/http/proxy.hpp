#pragma once
// HTTPS through an HTTP proxy, as curl does it: the proxy from `https_proxy`
// (else `HTTPS_PROXY`, else `all_proxy`, else `ALL_PROXY`), hosts in `no_proxy`
// (else `NO_PROXY`) reached directly,
// and a CONNECT tunnel (RFC 9110 §9.3.6) through which TLS runs end to end —
// the proxy never sees the CA's traffic, and the CA's certificate is verified
// as without a proxy. Credentials in the proxy URL (`http://user:pass@host:port`)
// go out as `Proxy-Authorization: Basic`; they never appear in a message.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/http/wire.hpp"
#include "protocol/http/io_budget.hpp"

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

// True when `no_proxy` says to reach `host` directly. `no_proxy` is a list
// separated by commas and/or blanks (as curl splits it; empty entries skipped):
//  - "*" alone: every host;
//  - a CIDR range, "10.0.0.0/8", "fd00::/8" or "[fd00::]/8": every IP-literal
//    host inside it (host bits in the entry are ignored; an IPv4 range never
//    matches an IPv6 host, IPv4-mapped ones included, nor any host name);
//  - an IP address ("127.0.0.1", "::1", "[::1]"): that address (compared as
//    addresses: "::1" and "0::1" are one), never as a suffix;
//  - a name: the host itself or any name under it — ".example.org" and
//    "example.org" alike; case-insensitive; never matches an IP literal.
// Malformed entries (see ignored_no_proxy_entries) match nothing.
[[nodiscard]] bool bypasses_proxy(std::string_view no_proxy, std::string_view host);

// The entries of `no_proxy` that bypasses_proxy ignores as malformed, as
// written: a '/' that is not a valid CIDR range (bad address, prefix not a
// number or longer than the address), or a '*' other than "*" alone (curl has
// no "*.example.org"). For a warning when a transport is created.
[[nodiscard]] std::vector<std::string> ignored_no_proxy_entries(std::string_view no_proxy);

// The proxy settings of the environment, as curl reads them for https URLs:
// https_proxy, else HTTPS_PROXY, else all_proxy, else ALL_PROXY (the first one
// set and not empty; lower case first). http_proxy is NOT read: it is for
// http:// URLs only, and the CA is always reached over https (curl does the
// same). no_proxy, else NO_PROXY.
struct ProxyEnvironment {
  std::string proxy;
  std::string no_proxy;
  std::string proxy_variable;  // the variable `proxy` came from; empty when none is set
};
[[nodiscard]] ProxyEnvironment proxy_environment();

// Asks the proxy on `fd` for a tunnel to `target` (CONNECT host:port) and reads
// its answer; any 2xx opens the tunnel. A refusal is Transport: retryable
// unless the proxy denied it (403) or wants other credentials (407).
[[nodiscard]] Result<void> open_tunnel(int fd, const ProxyConfig& proxy, const UrlParts& target,
                                       std::string_view user_agent, std::size_t max_header_bytes, IoBudget& budget);

}  // namespace certagent::protocol
