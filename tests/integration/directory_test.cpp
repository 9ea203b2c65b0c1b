// Smoke tests of the harness and of CurlTransport against the real pebble
// the `pebble.start` fixture runs: verified HTTPS, trusting only the fixture root.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <fstream>

#include "pebble_env.hpp"
#include "protocol/http/curl_transport.hpp"

namespace {

using certagent::ErrorKind;
using certagent::integration::PebbleEnv;
using certagent::integration::require_pebble_env;
using namespace certagent::protocol;

std::unique_ptr<CurlTransport> transport_trusting(const std::string& trust_file) {
  CurlTransportOptions options;
  options.trust_file = trust_file;
  auto transport = CurlTransport::create(options);
  if (!transport) throw std::runtime_error(transport.error().message);
  return std::move(*transport);
}

boost::json::object fetch_directory(CurlTransport& transport, const PebbleEnv& env) {
  HttpRequest request;
  request.url = env.directory_url;
  auto response = transport.send(request);
  if (!response) throw std::runtime_error(response.error().message);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->header("content-type").value_or("").find("application/json"), std::string::npos);
  return boost::json::parse(response->body).as_object();
}

void expect_acme_resources(const boost::json::object& dir) {
  for (const char* key : {"newNonce", "newAccount", "newOrder"}) {
    ASSERT_TRUE(dir.contains(key)) << key;
    EXPECT_TRUE(is_https_url(dir.at(key).as_string().c_str())) << key;
  }
}

TEST(PebbleDirectory, DefaultProfileOverVerifiedHttps) {
  auto env = require_pebble_env("default");
  auto transport = transport_trusting(env.tls_root);
  auto dir = fetch_directory(*transport, env);
  expect_acme_resources(dir);
  EXPECT_FALSE(dir.at("meta").as_object().at("externalAccountRequired").as_bool());
}

TEST(PebbleDirectory, EabProfileRequiresExternalAccount) {
  auto env = require_pebble_env("eab");
  EXPECT_TRUE(env.eab_required);
  EXPECT_EQ(env.key_id, "kid-1");
  EXPECT_GE(env.mac_key.size(), 32u);
  auto transport = transport_trusting(env.tls_root);
  auto dir = fetch_directory(*transport, env);
  expect_acme_resources(dir);
  EXPECT_TRUE(dir.at("meta").as_object().at("externalAccountRequired").as_bool());
}

TEST(PebbleDirectory, EveryProfileAnswers) {
  for (const char* profile : {"default", "eab", "nonce50", "chains", "shortlived"}) {
    auto env = require_pebble_env(profile);
    auto transport = transport_trusting(env.tls_root);
    expect_acme_resources(fetch_directory(*transport, env));
  }
  EXPECT_EQ(require_pebble_env("nonce50").nonce_reject_percent, 50);
  EXPECT_EQ(require_pebble_env("default").nonce_reject_percent, 5);
  EXPECT_EQ(require_pebble_env("shortlived").cert_validity_seconds, 120);
}

TEST(PebbleDirectory, SystemTrustStoreRejectsTheFixtureRoot) {
  auto env = require_pebble_env("default");
  auto transport = CurlTransport::create();
  ASSERT_TRUE(transport) << transport.error().message;
  HttpRequest request;
  request.url = env.directory_url;
  auto response = (*transport)->send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, ErrorKind::Transport);
  EXPECT_FALSE(response.error().retryable);
  EXPECT_NE(response.error().message.find("TLS verification failed"), std::string::npos)
      << response.error().message;
  EXPECT_NE(response.error().message.find(env.directory_url), std::string::npos) << response.error().message;
}

TEST(PebbleDirectory, AnotherRootDoesNotVerifyPebble) {
  // pebble's issuing root (management /roots/0) is not the root of its HTTPS certificate.
  auto env = require_pebble_env("default");
  auto transport = transport_trusting(env.tls_root);
  HttpRequest get_root;
  get_root.url = env.management_url + "/roots/0";
  auto root = transport->send(get_root);
  ASSERT_TRUE(root) << root.error().message;
  ASSERT_EQ(root->status, 200);
  const std::string other = ::testing::TempDir() + "/pebble-issuing-root.pem";
  {
    std::ofstream(other) << root->body;
  }
  auto wrong = transport_trusting(other);
  HttpRequest request;
  request.url = env.directory_url;
  auto response = wrong->send(request);
  ASSERT_FALSE(response);
  EXPECT_NE(response.error().message.find("TLS verification failed"), std::string::npos)
      << response.error().message;
}

TEST(PebbleDirectory, PlainHttpIsRefusedBeforeConnecting) {
  auto env = require_pebble_env("default");
  auto transport = transport_trusting(env.tls_root);
  HttpRequest request;
  request.url = "http://" + env.directory_url.substr(std::string("https://").size());
  auto response = transport->send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, ErrorKind::Invalid);
  EXPECT_NE(response.error().message.find("only https://"), std::string::npos) << response.error().message;
  EXPECT_EQ(transport->requests_sent(), 0u);
  EXPECT_EQ(transport->connections_opened(), 0u);
}

TEST(PebbleDirectory, HeadNewNonceReturnsReplayNonce) {
  auto env = require_pebble_env("default");
  auto transport = transport_trusting(env.tls_root);
  auto dir = fetch_directory(*transport, env);
  HttpRequest head;
  head.method = Method::Head;
  head.url = dir.at("newNonce").as_string().c_str();
  auto response = transport->send(head);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  auto nonce = response->header("replay-nonce");
  ASSERT_TRUE(nonce.has_value());
  EXPECT_FALSE(nonce->empty());
  EXPECT_TRUE(response->body.empty());
  // A second HEAD gives a fresh nonce.
  auto again = transport->send(head);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_NE(again->header("Replay-Nonce").value_or(""), *nonce);
}

TEST(PebbleDirectory, OneConnectionServesAFlow) {
  auto env = require_pebble_env("default");
  auto transport = transport_trusting(env.tls_root);
  auto dir = fetch_directory(*transport, env);
  HttpRequest head;
  head.method = Method::Head;
  head.url = dir.at("newNonce").as_string().c_str();
  ASSERT_TRUE(transport->send(head));
  ASSERT_TRUE(transport->send(head));
  fetch_directory(*transport, env);
  EXPECT_EQ(transport->requests_sent(), 4u);
  EXPECT_EQ(transport->connections_opened(), 1u);
}

TEST(PebbleDirectory, PebbleCountsTheRequests) {
  auto env = require_pebble_env("default");
  auto before = env.request_count();
  ASSERT_TRUE(before) << before.error().message;
  auto transport = transport_trusting(env.tls_root);
  fetch_directory(*transport, env);
  fetch_directory(*transport, env);
  auto after = env.request_count();
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(*after - *before, 2u);
}

TEST(PebbleEnvFile, UnknownProfileIsAClearError) {
  auto env = certagent::integration::load_pebble_env("no-such-profile");
  ASSERT_FALSE(env);
  EXPECT_NE(env.error().message.find("no-such-profile.env"), std::string::npos) << env.error().message;
}

}  // namespace
