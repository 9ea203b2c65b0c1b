#pragma once
// A TCP connection within an IoBudget: the name resolved (glibc's
// getaddrinfo_a for host names, so that the wait can be timed out and
// cancelled; numeric addresses directly), each address tried in turn with a
// non-blocking connect. The socket stays non-blocking; plain send/receive for
// the proxy's CONNECT exchange.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "protocol/http/io_budget.hpp"

namespace certagent::protocol {

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket();
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Connects to host:port. Errors are Transport and retryable (could not
// resolve, refused, unreachable, timed out), or Cancelled; the caller names
// what was being connected to.
[[nodiscard]] Result<Socket> tcp_connect(const std::string& host, std::uint16_t port, IoBudget& budget);

// Plain (not TLS) I/O on a non-blocking socket, within `budget`.
[[nodiscard]] Result<void> send_all(int fd, std::string_view bytes, IoBudget& budget);
// Appends what arrives (at most `max` bytes); 0 when the peer closed.
[[nodiscard]] Result<std::size_t> recv_some(int fd, std::string& into, std::size_t max, IoBudget& budget);

}  // namespace certagent::protocol
