#pragma once
// The real Transport: HTTP/1.1 over TLS (OpenSSL), blocking sockets waited on
// with poll(), one kept-alive connection per transport (one per ACME flow or
// worker thread).
//
// Guarantees:
//  - https:// only; any other scheme is refused before a connection is made.
//  - TLS 1.2 or later, always verified: the peer's chain, and its name (the
//    URL's host, also sent as SNI; an IP literal is checked against the
//    certificate's IP addresses), against the system store — or, when
//    `trust_file` is named, against that bundle only (a private CA).
//  - Bounded time, in two phases:
//     1. Setting up a connection — name lookup, TCP connect, proxy tunnel and
//        TLS handshake together — is bounded by `connect_timeout` (default
//        10 s; also by what is left of `total_timeout`). No low-speed check
//        runs here: a CA that accepts and then stalls the handshake fails with
//        "timed out after <connect_timeout> ms".
//     2. The exchange — writing the request and reading the answer — is
//        watched by the low-speed window, which starts when the request is
//        about to be written, i.e. after the handshake (or on a reused
//        connection, at the request). It counts the HTTP bytes moved in either
//        direction (request written + response read, as curl's low-speed limit
//        does; TLS record overhead and the handshake are not counted) and the
//        request fails once fewer than `low_speed_bytes_per_second` on average
//        moved over the last `low_speed_window` (sliding, sampled about once a
//        second; never before one whole window has passed): a body trickling
//        one byte a second, or a server that reads the request and never
//        answers, fails about `low_speed_window` (default 15 s) after the
//        handshake.
//    `total_timeout` (default 60 s) bounds the whole request, both phases and
//    a GET resent once, whatever the speed.
//  - Cancellation: with `cancel` set, every wait (lookup, connect, handshake,
//    send, receive) checks the flag at least every 100 ms and the request
//    fails with ErrorKind::Cancelled once it is true.
//  - Bounded size: a response body over `max_body_bytes` (default 1 MiB) is an
//    error, never a truncated body; response headers over `max_header_bytes` too.
//  - Redirects are never followed (ACME does not need them); a 3xx is returned as is.
//  - `User-Agent: certagent/<version>`. Bodies framed by Content-Length, chunked,
//    or the end of the connection; HEAD answers carry none.
//  - One kept-alive connection: reused while the host and port stay the same and
//    the server keeps it open. An idle connection the server closed is noticed
//    before a request is written and replaced transparently. When a reused
//    connection drops after the request went out and before any byte of the
//    answer came back, a GET or HEAD is sent once more on a new connection; a
//    POST is NOT (the server may have acted on it; an ACME POST carries a nonce
//    and must be re-signed with a fresh one): it fails retryable and the caller
//    decides.
//  - Proxy: `https_proxy`, `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY` (the first
//    set; http://[user:pass@]host[:port]; `http_proxy` is not read, as in curl
//    for https URLs) and `no_proxy`/`NO_PROXY` (names, addresses, CIDR ranges,
//    "*") as curl reads them (protocol/http/proxy.hpp), unless `proxy`/`no_proxy`
//    are given here; a CONNECT tunnel, TLS end to end. Malformed no_proxy
//    entries are ignored and warned about once per process and value.
// Errors are ErrorKind::Transport naming the method and URL, retryable for
// lookup and connect failures, timeouts and dropped connections;
// ErrorKind::Invalid for a refused URL, an unreadable trust file or a bad
// proxy URL; ErrorKind::Cancelled once `cancel` is set. Not thread-safe: one
// flow, one thread.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "protocol/http/http.hpp"

namespace certagent::protocol {

struct HttpsTransportOptions {
  std::string trust_file;  // PEM bundle; empty: the system trust store
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

class HttpsTransport final : public Transport {
 public:
  // Fails (Invalid) when the trust file cannot be read, a bound is zero or
  // the proxy URL is not an http:// URL.
  [[nodiscard]] static Result<std::unique_ptr<HttpsTransport>> create(HttpsTransportOptions options = {});
  ~HttpsTransport() override;
  HttpsTransport(const HttpsTransport&) = delete;
  HttpsTransport& operator=(const HttpsTransport&) = delete;

  [[nodiscard]] Result<HttpResponse> send(const HttpRequest& request) override;

  // Requests attempted so far (refused URLs are not counted; a GET sent once
  // more after a dropped connection counts once).
  [[nodiscard]] std::uint64_t requests_sent() const { return requests_sent_; }
  // Connections opened so far; 1 after any number of requests on one kept-alive connection.
  [[nodiscard]] std::uint64_t connections_opened() const { return connections_opened_; }
  [[nodiscard]] const HttpsTransportOptions& options() const { return options_; }

 private:
  struct Impl;
  HttpsTransport(HttpsTransportOptions options, std::unique_ptr<Impl> impl);

  HttpsTransportOptions options_;
  std::unique_ptr<Impl> impl_;
  std::uint64_t requests_sent_ = 0;
  std::uint64_t connections_opened_ = 0;
};

}  // namespace certagent::protocol
