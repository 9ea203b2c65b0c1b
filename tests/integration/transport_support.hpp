#pragma once
// The set-up the CurlTransport tests share (transport_limits_test.cpp,
// transport_connection_test.cpp): a TlsTestServer with the fixture's leaf
// certificate (or another), a transport that trusts the fixture's root and
// uses no proxy whatever the environment says, and one request.
#include <memory>
#include <string>

#include "common/error.hpp"
#include "protocol/http/curl_transport.hpp"
#include "tls_test_server.hpp"

namespace certagent::integration {

// Serves `handler` with `cert`/`key` (empty: the fixture's leaf and its key); throws when it cannot start.
[[nodiscard]] std::unique_ptr<TlsTestServer> serve(TlsTestServer::Handler handler, const std::string& cert = "",
                                                   const std::string& key = "");

// Trusts the fixture's root only; proxy and no_proxy empty (not read from the environment).
[[nodiscard]] protocol::CurlTransportOptions fixture_trust();

// A transport with these options; throws when they are refused.
[[nodiscard]] std::unique_ptr<protocol::CurlTransport> transport(
    protocol::CurlTransportOptions options = fixture_trust());

// One request; a POST carries a small JOSE body.
[[nodiscard]] Result<protocol::HttpResponse> send(protocol::CurlTransport& t, const std::string& url,
                                                  protocol::Method method = protocol::Method::Get);

}  // namespace certagent::integration
