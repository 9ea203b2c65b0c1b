#include "agent/daemon/metrics_server.hpp"

#include <arpa/inet.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <list>

namespace certagent::agent {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kMaxRequest = 8192;
constexpr std::chrono::seconds kRequestTimeout{5};
constexpr int kMaxConnections = 16;

struct Shared {
  MetricsServer::RenderFn render;
  int open = 0;
};

std::string http_response(int status, std::string_view reason, std::string_view content_type,
                          std::string_view body, bool head) {
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                     status, reason, content_type, body.size(), head ? std::string_view{} : body);
}

std::string answer(std::string_view request, const Shared& shared) {
  const std::string_view line = request.substr(0, request.find("\r\n"));
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1."))
    return http_response(400, "Bad Request", "text/plain", "bad request\n", false);
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  const bool head = method == "HEAD";
  if (method != "GET" && !head) return http_response(405, "Method Not Allowed", "text/plain", "GET only\n", false);
  if (target != "/metrics") return http_response(404, "Not Found", "text/plain", "see /metrics\n", head);
  return http_response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", shared.render(), head);
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Shared> shared)
      : socket_(std::move(socket)), deadline_(socket_.get_executor()), shared_(std::move(shared)) {
    ++shared_->open;
  }
  ~Connection() { --shared_->open; }

  void start() {
    deadline_.expires_after(kRequestTimeout);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->close();
    });
    asio::async_read_until(socket_, asio::dynamic_buffer(request_, kMaxRequest), "\r\n\r\n",
                           [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             if (ec) return self->close();
                             self->respond();
                           });
  }

  void close() {
    boost::system::error_code ignored;
    deadline_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void respond() {
    response_ = answer(request_, *shared_);
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](boost::system::error_code, std::size_t) { self->close(); });
  }

  tcp::socket socket_;
  asio::steady_timer deadline_;
  std::shared_ptr<Shared> shared_;
  std::string request_;
  std::string response_;
};

class AsioMetricsServer final : public MetricsServer {
 public:
  AsioMetricsServer(asio::io_context& io, std::shared_ptr<Shared> shared) : acceptor_(io), shared_(std::move(shared)) {}

  Result<void> listen(const ListenAddress& address) {
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address.host, ec);
    if (ec) return fail(ErrorKind::Invalid, fmt::format("\"{}\" is not an IP address", address.host));
    const tcp::endpoint endpoint(ip, address.port);
    if (acceptor_.open(endpoint.protocol(), ec) || acceptor_.set_option(tcp::acceptor::reuse_address(true), ec) ||
        acceptor_.bind(endpoint, ec) || acceptor_.listen(asio::socket_base::max_listen_connections, ec))
      return fail(ErrorKind::Transport,
                  fmt::format("listening for metrics on {}:{}: {}", address.host, address.port, ec.message()));
    port_ = acceptor_.local_endpoint().port();
    accept();
    return ok();
  }

  std::uint16_t port() const override { return port_; }

  void close() override {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : connections_)
      if (auto c = weak.lock()) c->close();
    connections_.clear();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        connections_.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
        if (shared_->open < kMaxConnections) {
          auto c = std::make_shared<Connection>(std::move(socket), shared_);
          connections_.push_back(c);
          c->start();
        }  // else: the socket closes as it goes out of scope
      }
      accept();
    });
  }

  tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
  std::list<std::weak_ptr<Connection>> connections_;
  std::uint16_t port_ = 0;
};

Result<std::uint16_t> parse_port(std::string_view text) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || v > 65535)
    return fail(ErrorKind::Invalid, fmt::format("\"{}\" is not a port number (0-65535)", text));
  return static_cast<std::uint16_t>(v);
}

}  // namespace

bool is_loopback(std::string_view numeric_host) {
  const std::string host(numeric_host);
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

Result<ListenAddress> parse_listen_address(std::string_view text, bool allow_remote) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fail(ErrorKind::Invalid, fmt::format("metrics address \"{}\" has no port (HOST:PORT)", text));
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = parse_port(text.substr(colon + 1));
  if (!port) return std::unexpected(port.error().context(fmt::format("metrics address \"{}\"", text)));
  ListenAddress address{host == "localhost" ? "127.0.0.1" : std::string(host), *port};
  in6_addr buf{};
  if (::inet_pton(AF_INET, address.host.c_str(), &buf) != 1 && ::inet_pton(AF_INET6, address.host.c_str(), &buf) != 1)
    return fail(ErrorKind::Invalid, fmt::format("metrics address \"{}\": \"{}\" is not a numeric IP address "
                                                "(or localhost)", text, host));
  if (!allow_remote && !is_loopback(address.host))
    return fail(ErrorKind::Invalid, fmt::format("metrics address \"{}\" is not a loopback address; the endpoint has "
                                                "no authentication (--metrics-allow-remote to serve it anyway)", text));
  return address;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(asio::io_context& io, const ListenAddress& address,
                                                            RenderFn render) {
  auto shared = std::make_shared<Shared>();
  shared->render = std::move(render);
  auto server = std::make_unique<AsioMetricsServer>(io, std::move(shared));
  if (auto r = server->listen(address); !r) return std::unexpected(r.error());
  return std::unique_ptr<MetricsServer>(std::move(server));
}

}  // namespace certagent::agent
