#include "common/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <list>
#include <map>

#include "common/escape.hpp"

namespace certagent::http_server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// The client a connection counts against: an IPv4 address, or the /64 of an IPv6 one (one
// host usually holds a whole /64).
std::string client_key(const tcp::endpoint& peer) {
  const auto a = peer.address();
  if (a.is_v4()) return a.to_string();
  if (a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  auto bytes = a.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec == boost::system::errc::too_many_files_open_in_system;
}

}  // namespace

class Connection;

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& io, Limits l, Handlers h)
      : acceptor(io), retry(io), limits(std::move(l)), handlers(std::move(h)) {}

  tcp::acceptor acceptor;
  asio::steady_timer retry;  // resumes accepting after running out of descriptors
  Limits limits;
  Handlers handlers;
  std::list<std::weak_ptr<Connection>> connections;
  std::map<std::string, std::size_t, std::less<>> per_client;
  std::size_t open = 0;
  bool accepting = false, closed = false;
  std::uint16_t port = 0;

  void note(Event e, unsigned status = 0) const {
    if (handlers.note) handlers.note(e, status);
  }
  void accept();
  void on_accepted(tcp::socket socket);
  void on_closed(const std::string& client);
  void close();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Server::Impl> server, std::string client)
      : socket_(std::move(socket)), deadline_(socket_.get_executor()), server_(std::move(server)),
        client_(std::move(client)), accepted_(Clock::now()) {}
  ~Connection() { server_->on_closed(client_); }

  void start() {
    parser_.header_limit(static_cast<std::uint32_t>(server_->limits.max_request_bytes));
    arm(std::min(server_->limits.head_timeout, server_->limits.connection_timeout));
    http::async_read_header(socket_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_head(ec);
    });
  }

  void close() {
    beast::error_code ignored;
    deadline_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void arm(std::chrono::milliseconds after_accept) {
    deadline_.expires_at(accepted_ + after_accept);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->socket_.is_open()) return;
      self->server_->note(Event::TimedOut);
      self->close();
    });
  }

  void on_head(beast::error_code ec) {
    if (!socket_.is_open()) return;  // timed out or the server closed
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      if (!server_->limits.reply_when_oversized) return close();
      return reply({431, "request header too large\n"}, false);
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) {
      server_->note(Event::ClosedEarly);
      return close();
    }
    if (ec) return reply({400, "bad request\n"}, false);
    const auto& head = parser_.get();
    if (head.version() != 10 && head.version() != 11) return reply({400, "bad request\n"}, false);
    const std::string_view method(head.method_string().data(), head.method_string().size());
    const std::string_view target(head.target().data(), head.target().size());
    reply(server_->handlers.handle(Request{method, target}), method == "HEAD");
  }

  void reply(Reply r, bool head_only) {
    arm(server_->limits.connection_timeout);
    server_->note(Event::Replied, r.status);
    response_.version(11);
    response_.result(r.status);
    response_.set(http::field::content_type, r.content_type);
    if (!r.allow.empty()) response_.set(http::field::allow, r.allow);
    response_.keep_alive(false);
    response_.content_length(r.body.size());
    if (!head_only) response_.body() = std::move(r.body);
    http::async_write(socket_, response_, [self = shared_from_this()](beast::error_code, std::size_t) {
      self->finish();
    });
  }

  // Unread request bytes would turn close() into a reset that can destroy the reply in
  // flight; take what has arrived (bounded) before closing.
  void finish() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.non_blocking(true, ec);
    std::array<char, 4096> sink{};
    for (int i = 0; i < 16 && !ec; ++i) socket_.read_some(asio::buffer(sink), ec);
    close();
  }

  tcp::socket socket_;
  asio::steady_timer deadline_;
  std::shared_ptr<Server::Impl> server_;
  std::string client_;
  Clock::time_point accepted_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> response_;
};

void Server::Impl::accept() {
  if (closed || accepting || open >= limits.max_connections) return;  // over the cap: the backlog waits
  accepting = true;
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    self->accepting = false;
    if (self->closed || ec == asio::error::operation_aborted) return;
    if (out_of_descriptors(ec)) {  // paused until a connection closes or the timer fires
      self->note(Event::OutOfDescriptors);
      self->retry.expires_after(std::chrono::milliseconds(250));
      self->retry.async_wait([self](beast::error_code e) {
        if (!e) self->accept();
      });
      return;
    }
    if (!ec) self->on_accepted(std::move(socket));
    self->accept();
  });
}

void Server::Impl::on_accepted(tcp::socket socket) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  std::string client = client_key(peer);
  auto& held = per_client[client];
  if (limits.max_per_client != 0 && held >= limits.max_per_client) {
    note(Event::OverClientCap);
    return;  // the socket closes as it goes out of scope
  }
  ++held;
  ++open;
  note(Event::Accepted);
  std::erase_if(connections, [](const std::weak_ptr<Connection>& w) { return w.expired(); });
  auto c = std::make_shared<Connection>(std::move(socket), shared_from_this(), std::move(client));
  connections.push_back(c);
  c->start();
}

void Server::Impl::on_closed(const std::string& client) {
  --open;
  if (auto it = per_client.find(client); it != per_client.end() && --it->second == 0) per_client.erase(it);
  if (!closed && !accepting) {
    retry.cancel();
    accept();
  }
}

void Server::Impl::close() {
  if (closed) return;
  closed = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  retry.cancel();
  for (auto& weak : connections)
    if (auto c = weak.lock()) c->close();
  connections.clear();
}

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { close(); }
std::uint16_t Server::port() const { return impl_->port; }
void Server::close() { impl_->close(); }

Result<std::unique_ptr<Server>> Server::listen(asio::io_context& io, std::string_view address, std::uint16_t port,
                                               Limits limits, Handlers handlers) {
  beast::error_code ec;
  const auto ip = asio::ip::make_address(std::string(address), ec);
  if (ec) return fail(ErrorKind::Invalid, "'" + escape_control(address, 100) + "' is not an IPv4 or IPv6 address");
  auto impl = std::make_shared<Impl>(io, std::move(limits), std::move(handlers));
  const tcp::endpoint endpoint(ip, port);
  const std::string where = (ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string()) + ":" + std::to_string(port);
  auto& a = impl->acceptor;
  if (a.open(endpoint.protocol(), ec) || a.set_option(tcp::acceptor::reuse_address(true), ec) || a.bind(endpoint, ec) ||
      a.listen(asio::socket_base::max_listen_connections, ec))
    return fail(ErrorKind::Transport, "cannot listen on " + where + ": " + ec.message());
  impl->port = a.local_endpoint(ec).port();
  impl->accept();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

}  // namespace certagent::http_server
