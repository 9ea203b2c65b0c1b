#include "agent/daemon/metrics_server.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <charconv>
#include <chrono>

#include "common/http_server.hpp"
#include "common/host_port.hpp"

namespace certagent::agent {

namespace {

constexpr http_server::Limits kLimits{.max_connections = 16,
                                      .max_per_client = 0,
                                      .max_request_bytes = 8192,
                                      .head_timeout = std::chrono::seconds(5),
                                      .connection_timeout = std::chrono::seconds(5),
                                      .reply_when_oversized = false};

http_server::Reply answer(const http_server::Request& request, const MetricsServer::RenderFn& render) {
  const std::string_view target = request.target.substr(0, request.target.find('?'));
  if (request.method != "GET" && request.method != "HEAD") return {405, "GET only\n", "text/plain", "GET, HEAD"};
  if (target != "/metrics") return {404, "see /metrics\n"};
  return {200, render(), "text/plain; version=0.0.4; charset=utf-8"};
}

class BeastMetricsServer final : public MetricsServer {
 public:
  explicit BeastMetricsServer(std::unique_ptr<http_server::Server> server) : server_(std::move(server)) {}
  std::uint16_t port() const override { return server_->port(); }
  void close() override { server_->close(); }

 private:
  std::unique_ptr<http_server::Server> server_;
};

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
  auto parsed = parse_host_port(text);
  if (!parsed) return std::unexpected(parsed.error().context(fmt::format("metrics address \"{}\"", text)));
  const std::string& host = parsed->host;
  ListenAddress address{host == "localhost" ? "127.0.0.1" : host, parsed->port};
  in6_addr buf{};
  if (::inet_pton(AF_INET, address.host.c_str(), &buf) != 1 && ::inet_pton(AF_INET6, address.host.c_str(), &buf) != 1)
    return fail(ErrorKind::Invalid, fmt::format("metrics address \"{}\": \"{}\" is not a numeric IP address "
                                                "(or localhost)", text, host));
  if (!allow_remote && !is_loopback(address.host))
    return fail(ErrorKind::Invalid, fmt::format("metrics address \"{}\" is not a loopback address; the endpoint has "
                                                "no authentication (--metrics-allow-remote to serve it anyway)", text));
  return address;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(boost::asio::io_context& io, const ListenAddress& address,
                                                            RenderFn render) {
  auto server = http_server::Server::listen(io, address.host, address.port, kLimits,
                                            {[render = std::move(render)](const http_server::Request& r) {
                                               return answer(r, render);
                                             }});
  if (!server) return std::unexpected(server.error().context("serving metrics"));
  return std::unique_ptr<MetricsServer>(std::make_unique<BeastMetricsServer>(std::move(*server)));
}

}  // namespace certagent::agent
