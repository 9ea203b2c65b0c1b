#pragma once
// The one HTTP server stack of certagent (the http-01 responder and the /metrics endpoint):
// Boost.Beast parses, Asio runs it on the caller's io_context. One request per connection
// (Connection: close), the request body is never read. Every limit is the caller's:
// connections at once (over the cap, new ones wait in the kernel's backlog), connections per
// client (an IPv4 address, an IPv6 /64; over it, a new connection is closed at once), request
// head size, time to the complete head and time from accept to the last byte sent. When
// accept() runs out of descriptors the server stops accepting until a connection closes (or a
// quarter second passes) instead of spinning. Asio stays in the .cpp.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.hpp"

namespace boost::asio { class io_context; }

namespace certagent::http_server {

struct Limits {
  std::size_t max_connections = 16;
  std::size_t max_per_client = 0;            // 0: no cap per client
  std::size_t max_request_bytes = 8 * 1024;  // request line + headers
  std::chrono::milliseconds head_timeout{std::chrono::seconds(5)};        // accept -> complete head
  std::chrono::milliseconds connection_timeout{std::chrono::seconds(5)};  // accept -> last byte sent
  bool reply_when_oversized = true;  // 431 for a head over the limit, or close without a reply
};

struct Request {
  std::string_view method;  // as sent: "GET", "get", "BREW"
  std::string_view target;
};

struct Reply {
  Reply(unsigned s, std::string b, std::string type = "text/plain", std::string allow_methods = {})
      : status(s), body(std::move(b)), content_type(std::move(type)), allow(std::move(allow_methods)) {}
  unsigned status;
  std::string body;
  std::string content_type;
  std::string allow;  // the Allow header of a 405
};

// What happened to a connection, for counters and logs.
enum class Event {
  Accepted,
  Replied,           // with the status of the reply
  TimedOut,          // the head or the reply did not complete in time
  OverClientCap,     // closed at accept: its client holds max_per_client connections
  OutOfDescriptors,  // accept() failed for want of descriptors: accepting paused
  ClosedEarly,       // the client went away before a complete request head
};

struct Handlers {
  std::function<Reply(const Request&)> handle;                // runs on the io_context's thread
  std::function<void(Event, unsigned status)> note = nullptr;  // likewise; may be empty
};

class Server {
 public:
  // Binds (SO_REUSEADDR) `address` (a numeric IPv4 or IPv6 address) and starts accepting.
  // Invalid when the address is not numeric, Transport when it cannot be bound.
  [[nodiscard]] static Result<std::unique_ptr<Server>> listen(boost::asio::io_context& io, std::string_view address,
                                                              std::uint16_t port, Limits limits, Handlers handlers);
  ~Server();  // close()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  // Stops accepting and drops every connection; on the io_context's thread. Idempotent.
  void close();

  struct Impl;

 private:
  explicit Server(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace certagent::http_server
