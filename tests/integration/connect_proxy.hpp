#pragma once
// A tiny HTTP CONNECT proxy for transport tests (plain sockets, one thread,
// tunnels served one after another): it records every CONNECT request's
// header block, then either opens the tunnel to 127.0.0.1:<port> and relays
// bytes both ways until a side closes, or refuses with `refuse_status`.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace certagent::integration {

class ConnectProxy {
 public:
  // refuse_status 0: tunnel; otherwise answer every CONNECT with that status.
  explicit ConnectProxy(int refuse_status = 0);
  ~ConnectProxy();
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  [[nodiscard]] std::string url() const;  // http://127.0.0.1:<port>
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::vector<std::string> requests() const;

 private:
  void run();
  void serve(int client);
  int refuse_status_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// A TCP listener that never accepts: the kernel completes the handshake, and
// nothing ever answers (a CA that hangs). Connections queue up in its backlog.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  [[nodiscard]] int port() const { return port_; }
  // True once a client connection waits in the backlog.
  [[nodiscard]] bool has_pending_connection() const;
  // True once a connection in the backlog holds bytes the client sent (a TLS ClientHello):
  // the client is waiting for the answer (its receive queue in /proc/net/tcp).
  [[nodiscard]] bool has_pending_bytes() const;

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace certagent::integration
