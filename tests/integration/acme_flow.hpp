#pragma once
// One ACME flow against the fixture's pebble, wired the way the agent wires it:
// HTTPS transport trusting the fixture root, the real clock and waiter, the
// built-in http-01 responder on the port pebble validates, and a session.
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/engine/system_waiter.hpp"
#include "pebble_env.hpp"
#include "protocol/acme/account.hpp"
#include "protocol/acme/issue.hpp"
#include "protocol/http/curl_transport.hpp"
#include "protocol/acme/http01_responder.hpp"

namespace certagent::integration {

template <class T>
T ok_or_throw(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(*r);
}

struct AcmeFlow {
  PebbleEnv env;
  std::unique_ptr<protocol::CurlTransport> transport;
  agent::SystemClock clock;
  agent::SleepingWaiter waiter;
  std::unique_ptr<protocol::Http01Responder> responder;
  std::optional<protocol::AcmeSession> session;

  explicit AcmeFlow(std::string_view profile) : AcmeFlow(require_pebble_env(profile)) {}
  explicit AcmeFlow(PebbleEnv pebble) : env(std::move(pebble)) {
    protocol::CurlTransportOptions options;
    options.trust_file = env.tls_root;
    transport = ok_or_throw(protocol::CurlTransport::create(options), "creating the transport");
    protocol::Http01ResponderOptions listen;
    listen.address = "127.0.0.1";
    listen.port = env.http01_port;
    responder = std::make_unique<protocol::Http01Responder>(listen);
    if (auto r = responder->start(); !r) throw std::runtime_error("starting the http-01 responder: " + r.error().message);
    session.emplace(ok_or_throw(protocol::AcmeSession::open(*transport, clock, waiter, env.directory_url), "opening"));
  }

  protocol::Account new_account(protocol::KeyType type = protocol::KeyType::EcP256) {
    auto key = std::make_shared<const protocol::PrivateKey>(ok_or_throw(protocol::PrivateKey::generate(type), "key"));
    protocol::NewAccountOptions options{{}, true, std::nullopt};
    if (env.eab_required) options.eab = protocol::ExternalAccountBinding{env.key_id, env.mac_key};
    return ok_or_throw(protocol::create_account(*session, key, options), "creating the account");
  }
};

// Names no earlier run used (pebble reuses valid authorizations per account).
inline std::vector<std::string> fresh_names(size_t n, const std::string& tag) {
  static std::atomic<int> counter{0};
  auto stamp = std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000'007);
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i)
    names.push_back("n" + std::to_string(i) + "-" + tag + "-" + stamp + "-" + std::to_string(counter++) + ".example");
  return names;
}

}  // namespace certagent::integration
