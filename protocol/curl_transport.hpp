#pragma once
// The real Transport: HTTPS through libcurl, one easy handle per flow so that
// one keep-alive connection serves every request of an ACME flow.
//
// Guarantees:
//  - https:// only; any other scheme is refused before a connection is made.
//  - TLS is always verified (peer and host name), against the system store, or,
//    when `trust_file` is named, against that bundle only (a private CA).
//  - Bounded time: `connect_timeout` to connect, `total_timeout` per request, and
//    a request whose transfer stays below `low_speed_bytes_per_second` for
//    `low_speed_window` fails — a body trickling one byte a second fails after
//    about `low_speed_window` (default 15 s), and never later than `total_timeout`.
//  - Bounded size: a response body over `max_body_bytes` (default 1 MiB) is an
//    error, never a truncated body; response headers over `max_header_bytes` too.
//  - Redirects are never followed (ACME does not need them); a 3xx is returned as is.
//  - `User-Agent: certagent/<version>`.
// Errors are ErrorKind::Transport with curl's message and the URL, retryable for
// connect failures, timeouts and dropped connections; ErrorKind::Invalid for a
// refused URL or an unreadable trust file. Not thread-safe: one flow, one thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "protocol/http.hpp"

namespace certagent::protocol {

struct CurlTransportOptions {
  std::string trust_file;  // PEM bundle; empty: the system trust store
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(60)};
  long low_speed_bytes_per_second = 16;
  std::chrono::seconds low_speed_window{15};
  std::size_t max_body_bytes = std::size_t{1} << 20;
  std::size_t max_header_bytes = std::size_t{64} << 10;
  std::string user_agent;  // empty: "certagent/<version>"
};

class CurlTransport final : public Transport {
 public:
  // Fails (Invalid) when the trust file cannot be read or a bound is zero,
  // (Transport) when libcurl cannot be initialised.
  [[nodiscard]] static Result<std::unique_ptr<CurlTransport>> create(CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  [[nodiscard]] Result<HttpResponse> send(const HttpRequest& request) override;

  // Requests handed to libcurl so far (refused URLs are not counted).
  [[nodiscard]] std::uint64_t requests_sent() const { return requests_sent_; }
  // New connections libcurl opened so far; 1 after any number of requests on
  // one kept-alive connection.
  [[nodiscard]] std::uint64_t connections_opened() const { return connections_opened_; }
  [[nodiscard]] const CurlTransportOptions& options() const { return options_; }

 private:
  struct Impl;
  CurlTransport(CurlTransportOptions options, std::unique_ptr<Impl> impl);
  [[nodiscard]] Result<void> prepare(const HttpRequest& request);
  [[nodiscard]] Result<HttpResponse> perform(const HttpRequest& request);

  CurlTransportOptions options_;
  std::unique_ptr<Impl> impl_;
  std::uint64_t requests_sent_ = 0;
  std::uint64_t connections_opened_ = 0;
};


}  // namespace certagent::protocol
