#include "transport_support.hpp"

#include <stdexcept>

#include "pebble_env.hpp"

namespace certagent::integration {

std::unique_ptr<TlsTestServer> serve(TlsTestServer::Handler handler, const std::string& cert, const std::string& key) {
  auto env = require_pebble_env("default");
  auto server = TlsTestServer::start(cert.empty() ? env.tls_cert : cert, key.empty() ? env.tls_key : key,
                                     std::move(handler));
  if (!server) throw std::runtime_error(server.error().message);
  return std::move(*server);
}

protocol::CurlTransportOptions fixture_trust() {
  protocol::CurlTransportOptions o;
  o.trust_file = require_pebble_env("default").tls_root;
  o.proxy = "";
  o.no_proxy = "";
  return o;
}

std::unique_ptr<protocol::CurlTransport> transport(protocol::CurlTransportOptions options) {
  auto t = protocol::CurlTransport::create(std::move(options));
  if (!t) throw std::runtime_error(t.error().message);
  return std::move(*t);
}

Result<protocol::HttpResponse> send(protocol::CurlTransport& t, const std::string& url, protocol::Method method) {
  protocol::HttpRequest request;
  request.method = method;
  request.url = url;
  if (method == protocol::Method::Post) {
    request.content_type = "application/jose+json";
    request.body = "{}";
  }
  return t.send(request);
}

}  // namespace certagent::integration
