#pragma once
// The real Transport: libcurl (Debian's libcurl4-openssl), one easy handle in
// one multi handle per transport, so one transport (one per ACME flow or
// worker thread) keeps its connection alive across requests.
//
// Guarantees:
//  - https:// only (CURLOPT_PROTOCOLS_STR "https"; any other URL is refused
//    before curl sees it); redirects are never followed (a 3xx is returned as
//    is; ACME does not need them).
//  - TLS 1.2 or later, always verified: the peer's chain and its name (the
//    URL's host; an IP literal against the certificate's IP addresses).
//    With `trust_file`, against that bundle only (a private CA). Without it,
//    against the system store as OpenSSL names it: the directory
//    $SSL_CERT_DIR (default /usr/lib/ssl/certs, i.e. /etc/ssl/certs on
//    Debian), plus the file $SSL_CERT_FILE when that is set.
//  - A body framed by the end of the connection must end with a TLS
//    close_notify: a connection cut without one is an error, never a short body.
//  - Bounded time: `connect_timeout` (default 10 s) for name lookup, TCP
//    connect, proxy tunnel and TLS handshake together; then the low-speed rule
//    (curl's: fewer than `low_speed_bytes_per_second` on average, bytes sent
//    and received, over `low_speed_window` fails the request; it starts once
//    the connection is set up); `total_timeout` (default 60 s) bounds it all.
//  - Cancellation: with `cancel` set, the transfer is driven by
//    curl_multi_poll with a 50 ms timeout and removed once the flag is true:
//    the request fails with ErrorKind::Cancelled within ~100 ms.
//  - Bounded size: a body over `max_body_bytes` (default 1 MiB; declared or
//    chunked) and headers over `max_header_bytes` are errors, never truncations.
//  - Connection reuse: a kept-alive connection is reused while the server keeps
//    it open; one curl found dead before use is replaced. When a reused
//    connection drops before any byte of the answer, curl sends a GET or HEAD
//    once more on a new connection; a POST is NOT sent again (the server may
//    have acted on it; an ACME POST carries a nonce and must be re-signed): it
//    fails retryable and the caller decides.
//  - Proxy as curl reads it: `https_proxy`, else `HTTPS_PROXY`, else
//    `all_proxy`, else `ALL_PROXY` (`http_proxy` is not used for https URLs),
//    and `no_proxy`/`NO_PROXY` (names, domains, IP addresses, CIDR ranges,
//    "*"), unless `proxy`/`no_proxy` are given here. The proxy URL may carry
//    credentials (`http://user:pass@host:port`, reserved characters
//    percent-encoded); they never appear in an error or a log line.
//  - `User-Agent: certagent/<version>`; HTTP/2 when the server offers it (ALPN).
// Errors are ErrorKind::Transport naming the method, URL and what failed,
// retryable for lookup and connect failures, timeouts and dropped
// connections; ErrorKind::Invalid for a refused URL, an unreadable trust file
// or an unusable proxy setting; ErrorKind::Cancelled once `cancel` is set.
// Not thread-safe: one flow, one thread.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "protocol/http/http.hpp"

namespace certagent::protocol {

struct CurlTransportOptions {
  std::string trust_file;  // PEM bundle; empty: the system trust store
  // A client certificate (PEM) and its key (PEM, unencrypted) for servers that authenticate the
  // client by TLS (etcd with --client-cert-auth); both or neither. Never for the CA.
  std::string client_certificate_file;
  std::string client_key_file;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(60)};
  long low_speed_bytes_per_second = 16;
  std::chrono::seconds low_speed_window{15};
  std::size_t max_body_bytes = std::size_t{1} << 20;
  std::size_t max_header_bytes = std::size_t{64} << 10;
  std::string user_agent;  // empty: "certagent/<version>"
  // nullopt: from the environment (https_proxy, no_proxy); "": no proxy / no exceptions.
  std::optional<std::string> proxy;
  std::optional<std::string> no_proxy;
  // When set and true, every request in flight fails with Cancelled within ~100 ms.
  const std::atomic<bool>* cancel = nullptr;
};

class CurlTransport final : public Transport {
 public:
  // Fails (Invalid) when the trust file holds no certificate, a bound is zero
  // or the proxy setting is not a URL curl can use.
  [[nodiscard]] static Result<std::unique_ptr<CurlTransport>> create(CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  [[nodiscard]] Result<HttpResponse> send(const HttpRequest& request) override;

  // Requests attempted so far (refused URLs are not counted; a GET curl sends
  // once more after a dropped connection counts once).
  [[nodiscard]] std::uint64_t requests_sent() const { return requests_sent_; }
  // Connections opened so far; 1 after any number of requests on one kept-alive connection.
  [[nodiscard]] std::uint64_t connections_opened() const { return connections_opened_; }
  [[nodiscard]] const CurlTransportOptions& options() const { return options_; }

 private:
  struct Impl;
  CurlTransport(CurlTransportOptions options, std::unique_ptr<Impl> impl);

  CurlTransportOptions options_;
  std::unique_ptr<Impl> impl_;
  std::uint64_t requests_sent_ = 0;
  std::uint64_t connections_opened_ = 0;
};

}  // namespace certagent::protocol
