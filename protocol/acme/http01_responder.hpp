#pragma once
// The built-in http-01 responder (RFC 8555 §8.3): a small HTTP/1.1 server that
// answers GET /.well-known/acme-challenge/<token> with the key authorization
// for the tokens it currently holds, and nothing else. It faces the network on
// port 80: common/http_server (Boost.Beast on Asio) on a thread of its own, so a
// CA validating a hundred names at once is answered at once, a slow or silent
// client only costs its own slot, and one client cannot take every slot.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "protocol/acme/challenge.hpp"

namespace certagent::protocol {

struct Http01ResponderOptions {
  std::string address = "0.0.0.0";  // IPv4 or IPv6 literal ("::", "[::1]")
  std::uint16_t port = 80;           // 0: an ephemeral port, see Http01Responder::port()
  std::size_t max_connections = 1024;        // over it, new connections wait in the backlog
  std::size_t max_connections_per_client = 512;  // an IPv4 address or IPv6 /64; over it: closed at once
  std::size_t max_request_bytes = 8 * 1024;  // request line + headers
  std::chrono::milliseconds head_timeout{std::chrono::seconds(3)};         // from accept to the request head
  std::chrono::milliseconds connection_timeout{std::chrono::seconds(10)};  // from accept to last byte sent
  std::size_t max_tokens = 10'000;
};

// Counters since start(), for tests and status output.
struct Http01ResponderStats {
  std::uint64_t connections = 0;
  std::uint64_t answered = 0;   // 200 with a key authorization
  std::uint64_t not_found = 0;  // 404
  std::uint64_t refused = 0;    // 400, 405, 431, timed out, over the per-client cap
};

class Http01Responder final : public ChallengeSolver {
 public:
  explicit Http01Responder(Http01ResponderOptions options = {});
  ~Http01Responder() override;  // stops the server
  Http01Responder(const Http01Responder&) = delete;
  Http01Responder& operator=(const Http01Responder&) = delete;

  // Binds, listens and starts the serving thread. Fails (Invalid for a bad
  // address, Transport for bind/listen errors such as a port in use) without
  // leaving anything running. start() and stop() are for the owning thread.
  [[nodiscard]] Result<void> start();
  // Closes the listener and every connection and joins the thread. Idempotent.
  void stop();
  [[nodiscard]] bool running() const;
  // The port actually bound (useful with port 0); 0 when not running.
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] Http01ResponderStats stats() const;

  [[nodiscard]] std::string_view type() const override { return "http-01"; }
  // Thread-safe; may be called before start(). Refuses a task of another
  // type, a token that is not base64url (or longer than 256 characters), a key
  // authorization that is not "<token>.<base64url>", and more than max_tokens.
  [[nodiscard]] Result<void> present(const ChallengeTask& task) override;
  // Thread-safe; a token never presented is fine.
  [[nodiscard]] Result<void> clean_up(const ChallengeTask& task) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certagent::protocol
