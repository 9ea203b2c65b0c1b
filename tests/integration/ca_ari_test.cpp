// ACME Renewal Information (RFC 9773) against a CA that offers it (pebble v2.10.3:
// `ctest -R integration.pebble_current_ari`): the CA's Retry-After sets the next look, the
// renewal order carries `replaces` and the CA accepts it, a window the CA moves into the past
// replaces the certificate within one look, and an ARI endpoint that answers garbage never
// stops renewal by the lifetime rule. pebble's management interface (/set-renewal-info/)
// overrides the answer for one certificate; its own log says which orders it took as
// replacements. Every case skips on a CA without renewalInfo.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "ca_suite.hpp"
#include "daemon_support.hpp"
#include "engine_support.hpp"
#include "protocol/http/curl_transport.hpp"
#include "support/files.hpp"

namespace certagent::integration {
namespace {

using certagent::testing::read_text;

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
namespace json = boost::json;

std::string describe(const ProcessOutcome& r) {
  return fmt::format("exit {} signal {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.signal, r.out, r.err);
}

// The leaf bound to `purpose`, as PEM (the first block of live/<purpose>/cert.pem).
std::string bound_leaf(const EngineSandbox& box, const std::string& purpose = "Default") {
  return read_text(box.state() / "live" / purpose / "cert.pem");
}

// pebble's management interface: answer `ari_response` (any text, even malformed JSON) to
// every renewalInfo request for this certificate from now on.
void set_renewal_info(const PebbleEnv& env, const std::string& cert_pem, const std::string& ari_response) {
  protocol::CurlTransportOptions options;
  options.trust_file = env.tls_root;
  auto transport = protocol::CurlTransport::create(options);
  if (!transport) throw std::runtime_error(transport.error().message);
  const std::string body = json::serialize(json::object{{"Certificate", cert_pem}, {"ARIResponse", ari_response}});
  auto resp = (*transport)->send(protocol::HttpRequest{protocol::Method::Post, env.management_url + "/set-renewal-info/",
                                                        "application/json", body, {}});
  if (!resp) throw std::runtime_error("set-renewal-info: " + resp.error().message);
  if (resp->status != 200) throw std::runtime_error(fmt::format("set-renewal-info: HTTP {}: {}", resp->status, resp->body));
}

// A window that ended an hour ago: the CA's way to say "replace it now" (what pebble answers
// for a revoked certificate).
std::string past_window() {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto start = now - 2h, end = now - 1h;
  return fmt::format(R"({{"suggestedWindow":{{"start":"{:%Y-%m-%dT%H:%M:%S}Z","end":"{:%Y-%m-%dT%H:%M:%S}Z"}}}})",
                     start, end);
}

std::size_t renewal_info_requests(const PebbleEnv& env) { return handled_count(env, "GET /draft-ietf-acme-ari-03/renewalInfo/"); }

// pebble logs "ARI: order X is a replacement of Y" for every newOrder whose `replaces` it accepted.
std::size_t replacements_accepted(const PebbleEnv& env) {
  std::ifstream in(env.log);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find("is a replacement of") != std::string::npos ? 1 : 0;
  return n;
}

// The ARI record the agent keeps for the certificate bound to Default (state/ari/<thumbprint>.json).
json::object ari_record(const EngineSandbox& box) {
  const auto certs = box.certs();
  const std::string t = thumbprint_of(certs.at("Default"));
  return json::parse(read_text(box.state() / "ari" / (t + ".json"))).as_object();
}

class CaAri : public ::testing::TestWithParam<CaUnderTest> {
 protected:
  void SetUp() override {
    if (!GetParam().ari) GTEST_SKIP() << GetParam().name << " offers no renewalInfo (ARI, RFC 9773)";
  }
  // pebble instances of their own (ari, ari_shortlived): the suite counts the CA's orders and
  // renewalInfo requests while other suites run beside it (one CTest test each, ctest -j).
  [[nodiscard]] PebbleEnv env(const std::string& instance = "default") const {
    if (GetParam().name != "pebble_current") return require_ca_env(GetParam(), instance);
    return require_ca_env(GetParam(), instance == "default" ? std::string("ari") : "ari_" + instance);
  }
};

TEST_P(CaAri, AriWindowIsFetchedByThePassThatIssuesAndItsRetryAfterSetsTheNextLook) {
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  const auto before = renewal_info_requests(box.pebble());
  auto first = box.certagent({"run", "--once"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  // The pass that issued asked for the new certificate's window: one request, not one a pass.
  EXPECT_THAT(first.err, HasSubstr("the CA suggests renewing certificate"));
  EXPECT_EQ(renewal_info_requests(box.pebble()), before + 1);
  const auto record = ari_record(box);
  // pebble answers Retry-After: 21600 (6 hours); the agent asks again exactly then.
  EXPECT_EQ(record.at("recheck_at").to_number<std::int64_t>() - record.at("fetched_at").to_number<std::int64_t>(), 21600)
      << json::serialize(record);
  auto second = box.certagent({"run", "--once"});
  ASSERT_EQ(second.exit_code, 0) << describe(second);
  EXPECT_EQ(renewal_info_requests(box.pebble()), before + 1) << "asked again before the CA's Retry-After";
}

TEST_P(CaAri, AriWindowInThePastReplacesTheCertificateWithReplacesAcceptedByTheCa) {
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  const std::string old_thumbprint = thumbprint_of(box.certs().at("Default"));
  const auto orders = ca_new_orders(box.pebble());
  const auto accepted = replacements_accepted(box.pebble());
  set_renewal_info(box.pebble(), bound_leaf(box), past_window());
  // The record says "ask again in 6 hours": an ARI override shows only when the CA is asked.
  std::filesystem::remove(box.state() / "ari" / (old_thumbprint + ".json"));
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.err, HasSubstr(": renew — certificate")) << describe(r);
  EXPECT_NE(thumbprint_of(box.certs().at("Default")), old_thumbprint);
  EXPECT_EQ(ca_new_orders(box.pebble()), orders + 1);
  EXPECT_EQ(replacements_accepted(box.pebble()), accepted + 1) << "the renewal order's `replaces` was not accepted";
}

TEST_P(CaAri, AriWindowMovedIntoThePastWhileTheDaemonRunsIsActedOnWithinOneLookWithoutBusyLooping) {
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  constexpr int kLook = 4;  // seconds between looks (CERTAGENT_ARI_RECHECK_MAX; pebble says 6 hours)
  AgentProcess agent(box, box.dir() / "agent.log", {}, {fmt::format("CERTAGENT_ARI_RECHECK_MAX={}", kLook)});
  ASSERT_TRUE(agent.wait_for_log("the CA suggests renewing certificate", 60s)) << agent.log();
  ASSERT_TRUE(poll_until([&] { return box.certs().contains("Default"); }, 10s));
  const std::string old_thumbprint = thumbprint_of(box.certs().at("Default"));
  const auto orders = ca_new_orders(box.pebble());
  const auto looks = renewal_info_requests(box.pebble());
  set_renewal_info(box.pebble(), bound_leaf(box), past_window());
  const auto moved = std::chrono::steady_clock::now();
  std::string new_thumbprint;
  ASSERT_TRUE(poll_until([&] {
    new_thumbprint = thumbprint_of(box.certs().at("Default"));
    return new_thumbprint.size() == 40 && new_thumbprint != old_thumbprint;
  }, std::chrono::seconds(kLook * 2 + 30)))
      << agent.log();
  const auto took = std::chrono::steady_clock::now() - moved;
  EXPECT_LT(took, std::chrono::seconds(kLook + 20)) << "not within one look";
  EXPECT_EQ(ca_new_orders(box.pebble()), orders + 1);
  // Then quiet: the new certificate has a normal window; the daemon looks every kLook s, no more.
  const auto quiet_from = renewal_info_requests(box.pebble());
  std::this_thread::sleep_for(std::chrono::seconds(3 * kLook));
  EXPECT_EQ(ca_new_orders(box.pebble()), orders + 1) << "a second order: a renewal storm";
  EXPECT_LE(renewal_info_requests(box.pebble()) - quiet_from, 4u) << "busy-looping on renewalInfo";
  EXPECT_GE(renewal_info_requests(box.pebble()) - quiet_from, 2u) << "the daemon stopped looking";
  EXPECT_GE(renewal_info_requests(box.pebble()), looks + 2);
  EXPECT_EQ(thumbprint_of(box.certs().at("Default")), new_thumbprint);
}

TEST_P(CaAri, AriEndpointAnsweringGarbageNeverBlocksRenewalByTheLifetimeRule) {
  EngineSandbox box(env("shortlived"));
  ASSERT_EQ(box.pebble().cert_validity_seconds, 120);
  box.write_policy(pool("shared"));
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  const std::string old_thumbprint = thumbprint_of(box.certs().at("Default"));
  set_renewal_info(box.pebble(), bound_leaf(box), "{\"suggestedWindow\": not json");
  std::filesystem::remove(box.state() / "ari" / (old_thumbprint + ".json"));
  // The lifetime rule renews a two-minute certificate when one minute is left (half, under 10
  // days; minus a jitter of at most 4 s).
  AgentProcess agent(box, box.dir() / "agent.log");
  const bool renewed = poll_until([&] {
    const auto t = thumbprint_of(box.certs().at("Default"));
    return t.size() == 40 && t != old_thumbprint;
  }, 100s);
  EXPECT_TRUE(renewed) << agent.log();
  EXPECT_THAT(agent.log(), HasSubstr("keeping the lifetime rule"));
}

INSTANTIATE_TEST_SUITE_P(Cas, CaAri, ::testing::ValuesIn(cas_in_this_process()),
                         [](const ::testing::TestParamInfo<CaUnderTest>& info) { return info.param.name; });

}  // namespace
}  // namespace certagent::integration
