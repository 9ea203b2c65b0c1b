// CA faults through the engine (`certagent run --once`, the real binary): a CA with
// alternate roots and a preferred chain, and a CA that is stopped in the middle of an
// order and comes back empty (a new pebble forgets every account and order).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "engine_support.hpp"
#include "pebble_instances.hpp"
#include "protocol/acme/certificate.hpp"
#include "protocol/http/curl_transport.hpp"
#include "protocol/x509/certificate.hpp"
#include "support/files.hpp"

namespace certagent::integration {
namespace {

using certagent::testing::read_text;
namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::Contains;
using ::testing::HasSubstr;

// pebble's root number `index` (management interface, /roots/N) as a certificate.
protocol::Certificate pebble_root(const PebbleEnv& env, int index) {
  protocol::CurlTransportOptions options;
  options.trust_file = env.tls_root;
  auto transport = protocol::CurlTransport::create(options);
  if (!transport) throw std::runtime_error(transport.error().message);
  auto resp = (*transport)->send(protocol::HttpRequest{
      protocol::Method::Get, env.management_url + "/roots/" + std::to_string(index), "", "", {}});
  if (!resp || resp->status != 200) throw std::runtime_error("cannot read pebble's root " + std::to_string(index));
  auto certs = protocol::parse_pem_chain(resp->body);
  if (!certs || certs->empty()) throw std::runtime_error("pebble's root is not PEM");
  return std::move(certs->front());
}

protocol::Certificate copy_of(const protocol::Certificate& c) {
  auto copy = c.clone();
  if (!copy) throw std::runtime_error(copy.error().message);
  return std::move(*copy);
}

std::string subject_cn(const protocol::Certificate& c) {
  protocol::CertificateChain one;
  one.certificates.push_back(copy_of(c));
  return protocol::top_issuer_cn(one);  // a root is its own issuer
}

std::vector<protocol::Certificate> bound_chain(const EngineSandbox& box) {
  const auto version = std::string(box.certs().at("Default").at("version").as_string());
  auto chain = protocol::parse_pem_chain(read_text(box.state() / "certs" / version / "fullchain.pem"));
  if (!chain) throw std::runtime_error(chain.error().message);
  return std::move(*chain);
}

Result<void> verifies_to(const std::vector<protocol::Certificate>& chain, const protocol::Certificate& root) {
  std::vector<protocol::Certificate> trust;
  trust.push_back(copy_of(root));
  return protocol::verify_chain(chain, trust, std::chrono::system_clock::now());
}

TEST(CaFaultChains, ThePreferredOfThreeChainsIsBoundAndVerifiesToItsRoot) {
  EngineSandbox box("chains");
  const protocol::Certificate alternate = pebble_root(box.pebble(), 1);
  const protocol::Certificate primary = pebble_root(box.pebble(), 0);
  const std::string preferred = subject_cn(alternate);
  ASSERT_NE(preferred, subject_cn(primary));
  PoolPolicy policy;
  policy.preferred_chain = preferred;
  box.write_policy(policy);
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto chain = bound_chain(box);
  ASSERT_GE(chain.size(), 3u);  // PEBBLE_CHAIN_LENGTH=3: leaf and two intermediates
  auto verified = verifies_to(chain, alternate);
  EXPECT_TRUE(verified) << verified.error().message;
  EXPECT_FALSE(verifies_to(chain, primary));
  protocol::CertificateChain as_chain;
  as_chain.certificates = std::move(chain);
  EXPECT_EQ(protocol::top_issuer_cn(as_chain), preferred);
}

TEST(CaFaultChains, WithoutAPreferenceTheDefaultChainIsBoundAndVerifies) {
  EngineSandbox box("chains");
  box.write_policy({});
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto verified = verifies_to(bound_chain(box), pebble_root(box.pebble(), 0));
  EXPECT_TRUE(verified) << verified.error().message;
}

// --- the CA stopped in the middle of an order, back empty ------------------------------

// Waits until pebble has handled more than `count` newOrder requests.
void wait_for_new_order(const PebbleEnv& env, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (new_order_count(env) <= count) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("certagent placed no order in 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The clock moving past the back-off: next_attempt set back to last_attempt in every
// schedule record (the state is otherwise untouched).
void let_back_off_expire(const EngineSandbox& box) {
  for (const auto& entry : fs::directory_iterator(box.state() / "schedule")) {
    json::value v = json::parse(read_text(entry.path()));
    std::function<void(json::value&)> walk = [&](json::value& x) {
      if (x.is_object()) {
        auto& o = x.as_object();
        if (o.contains("next_attempt") && o.contains("last_attempt") && !o.at("next_attempt").is_null())
          o.at("next_attempt") = json::value(o.at("last_attempt"));  // at(): operator[] may rehash first
        for (auto& kv : o) walk(kv.value());
      }
    };
    walk(v);
    std::ofstream(entry.path()) << json::serialize(v);
  }
}

TEST(CaFaultRestart, CaStoppedMidOrderAndBackEmptyBacksOffThenStartsAnewWhileTheOldCertificateStaysBound) {
  PebbleInstances pebble({"lost=default,PEBBLE_VA_NOSLEEP=0,PEBBLE_VA_SLEEPTIME=3"});
  const PebbleEnv env = pebble.env("lost");
  EngineSandbox box(env);
  box.write_policy({});
  auto first = box.certagent({"run", "--once"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string old_thumbprint = thumbprint_of(box.certs().at("Default"));

  // A new SIP domain: a reissue. Stop the CA once the order is placed (validation sleeps).
  PoolPolicy grown;
  grown.sip_domains.push_back("adatum.com");
  box.write_policy(grown);
  const auto orders_before = new_order_count(env);
  auto running = std::async(std::launch::async, [&] { return box.certagent({"run", "--once"}); });
  wait_for_new_order(env, orders_before);
  pebble.stop("lost");
  const auto cut_at = std::chrono::steady_clock::now();
  auto cut = running.get();
  const auto gave_up_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cut_at).count();
  std::printf("CA stopped mid-order: run --once gave up %lld ms later, exit %d\n", static_cast<long long>(gave_up_ms),
              cut.exit_code);
  EXPECT_EQ(cut.exit_code, 1) << cut.err;  // the pass failed: the reissue did not happen
  EXPECT_LT(gave_up_ms, 30'000);
  pebble.restart("lost");
  EXPECT_EQ(thumbprint_of(box.certs().at("Default")), old_thumbprint);
  EXPECT_TRUE(fs::exists(box.state() / "orders")) << "the placed order was not journaled";

  // At once again: backing off, not a single request to the CA, the old certificate bound.
  const auto orders_at_restart = new_order_count(env);
  auto backing_off = box.certagent({"run", "--once"});
  EXPECT_EQ(backing_off.exit_code, 3) << backing_off.err;
  EXPECT_THAT(backing_off.err, HasSubstr("backing off"));
  EXPECT_EQ(new_order_count(env), orders_at_restart);
  EXPECT_EQ(thumbprint_of(box.certs().at("Default")), old_thumbprint);

  // Past the back-off: the CA knows neither the account nor the order; certagent
  // registers the key anew, orders anew and binds the new certificate.
  let_back_off_expire(box);
  auto recovered = box.certagent({"run", "--once"});
  ASSERT_EQ(recovered.exit_code, 0) << recovered.err;
  EXPECT_THAT(recovered.err, HasSubstr("not resuming the journaled order"));
  EXPECT_THAT(recovered.err, HasSubstr("registering the account key again"));
  auto certs = box.certs();
  EXPECT_NE(thumbprint_of(certs.at("Default")), old_thumbprint);
  EXPECT_THAT(names_of(certs.at("Default")), Contains("lyncdiscover.adatum.com"));
  // newOrder at the new CA: one refused for the forgotten account, one that succeeded.
  EXPECT_LE(new_order_count(env) - orders_at_restart, 2u);
  EXPECT_TRUE(fs::is_empty(box.state() / "orders")) << "the stored certificate's journal was not removed";
  // And nothing left to do.
  const auto orders_after = new_order_count(env);
  auto settled = box.certagent({"run", "--once"});
  EXPECT_EQ(settled.exit_code, 0) << settled.err;
  EXPECT_EQ(new_order_count(env), orders_after);
}

}  // namespace
}  // namespace certagent::integration
