#pragma once
// The /metrics HTTP endpoint: common/http_server (Boost.Beast) on the daemon's own io_context
// (one thread, no locking: the render callback runs where the state is updated). Serves
// `GET /metrics` (text/plain; version=0.0.4), answers 404 elsewhere and 405 to other
// methods, reads at most 8 KiB of request within 5 seconds, keeps at most 16 connections
// (more wait in the backlog). Asio itself stays in the .cpp; this header only names the io_context.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace boost::asio { class io_context; }

namespace certagent::agent {

struct ListenAddress {
  std::string host;  // a numeric IPv4 or IPv6 address
  std::uint16_t port = 0;
};

// "127.0.0.1:9464", "[::1]:9464", "localhost:9464" (= 127.0.0.1). Refuses (Invalid) anything
// that is not a numeric address or localhost, a bad port, and — unless `allow_remote` — an
// address outside 127.0.0.0/8 and ::1: the endpoint has no authentication.
[[nodiscard]] Result<ListenAddress> parse_listen_address(std::string_view text, bool allow_remote);
[[nodiscard]] bool is_loopback(std::string_view numeric_host);

class MetricsServer {
 public:
  using RenderFn = std::function<std::string()>;
  // Binds (SO_REUSEADDR) and starts accepting. Fails (Transport) when the address cannot be bound.
  [[nodiscard]] static Result<std::unique_ptr<MetricsServer>> start(boost::asio::io_context& io,
                                                                    const ListenAddress& address, RenderFn render);
  virtual ~MetricsServer() = default;
  [[nodiscard]] virtual std::uint16_t port() const = 0;  // the bound port
  virtual void close() = 0;                              // stop accepting, drop connections
};

}  // namespace certagent::agent
