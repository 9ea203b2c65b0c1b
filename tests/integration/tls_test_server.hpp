#pragma once
// A tiny HTTPS server for transport tests that pebble cannot stage: bodies that
// trickle, oversize bodies and headers, redirects. It serves with the fixture's
// leaf certificate (localhost/127.0.0.1, signed by the fixture root) or any
// other, on 127.0.0.1 and a port the kernel picks. One request per connection
// unless the handler calls Reply::keep_open() (then the next request is read
// from the same connection); connections are served one after another.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"

namespace certagent::integration {

// Writes to the client; returns false once the client has gone away.
class Reply {
 public:
  virtual ~Reply() = default;
  virtual bool write(std::string_view bytes) = 0;
  [[nodiscard]] virtual bool stopping() const = 0;
  // Serve the next request on this connection instead of closing it.
  virtual void keep_open() = 0;
  // Close the connection without a TLS close_notify (a cut, not an end).
  virtual void cut() = 0;
};

class TlsTestServer {
 public:
  // handler(request text incl. body, reply) runs on the server thread.
  using Handler = std::function<void(const std::string& request, Reply& reply)>;

  [[nodiscard]] static Result<std::unique_ptr<TlsTestServer>> start(const std::string& cert_file,
                                                                    const std::string& key_file, Handler handler);
  ~TlsTestServer();
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  [[nodiscard]] std::string url(std::string_view path) const;
  [[nodiscard]] std::vector<std::string> requests() const;
  // Connections accepted (TLS handshake done) so far.
  [[nodiscard]] std::size_t connections() const;
  // Connections the server has closed so far.
  [[nodiscard]] std::size_t closed() const;
  [[nodiscard]] int port() const;
  // From now on, each accepted connection waits this long before the TLS
  // handshake (a CA that accepts and stalls); 0: none.
  void delay_handshake(std::chrono::milliseconds delay);

 private:
  struct State;
  explicit TlsTestServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace certagent::integration
