// CurlTransport and the end of a body: a body framed by the end of the
// connection counts only when the TLS connection ends with a close_notify. A
// certificate chain cut at a certificate boundary would otherwise parse and
// verify with its intermediates missing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/test_pki.hpp"
#include "tls_test_server.hpp"
#include "transport_support.hpp"

namespace {

using certagent::ErrorKind;
using namespace certagent::integration;
using namespace certagent::protocol;

// A leaf and its issuer, as a CA would send the chain.
std::pair<std::string, std::string> leaf_and_issuer() {
  certagent::testing::TestCa ca("framing root");
  auto key = certagent::testing::new_key();
  certagent::testing::CertSpec spec;
  spec.dns_names = {"leaf.example"};
  return {certagent::testing::must(ca.issue(key, spec).pem()), ca.pem()};
}

// Sends the chain's headers (no length: the end of the connection ends the
// body) and `body`; then ends the TLS connection properly, or cuts it.
TlsTestServer::Handler close_framed(std::string body, bool cut) {
  return [body = std::move(body), cut](const std::string&, Reply& reply) {
    reply.write("HTTP/1.1 200 OK\r\nContent-Type: application/pem-certificate-chain\r\nConnection: close\r\n\r\n");
    reply.write(body);
    if (cut) reply.cut();
  };
}

TEST(TransportFraming, AClosedFramedChainEndedWithCloseNotifyIsWhole) {
  const auto [leaf, issuer] = leaf_and_issuer();
  auto server = serve(close_framed(leaf + issuer, /*cut=*/false));
  auto r = send(*transport(), server->url("/cert/1"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, leaf + issuer);
}

TEST(TransportFraming, AChainCutAtACertificateBoundaryWithoutCloseNotifyIsRefused) {
  const auto [leaf, issuer] = leaf_and_issuer();
  auto server = serve(close_framed(leaf, /*cut=*/true));  // the issuer never comes
  auto r = send(*transport(), server->url("/cert/1"), Method::Post);
  ASSERT_FALSE(r) << "a cut body was taken for the whole chain";
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("without a TLS close_notify"), std::string::npos) << r.error().message;
}

TEST(TransportFraming, ALengthFramedBodyCutShortIsRefused) {
  const auto [leaf, issuer] = leaf_and_issuer();
  auto server = serve([&leaf = leaf, &issuer = issuer](const std::string&, Reply& reply) {
    reply.write(fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", leaf.size() + issuer.size(), leaf));
  });
  auto r = send(*transport(), server->url("/cert/1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_TRUE(r.error().retryable);
}

}  // namespace
