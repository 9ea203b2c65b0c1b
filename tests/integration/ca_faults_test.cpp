// CA faults against a real pebble (real HTTPS, every challenge really answered by the
// built-in http-01 responder): half of all nonces rejected for 200 issuances,
// authorization reuse at 0, 50 and 100 %, and pebble's random validation sleep.
// The figures are printed and recorded as test properties; docs/reliability.md quotes them.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "acme_flow.hpp"
#include "pebble_instances.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::integration {
namespace {
using namespace certagent::protocol;
using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

void expect_names(const IssuedCertificate& issued, const std::vector<std::string>& names) {
  EXPECT_EQ(normalized_names(issued.chain.certificates.front().info().dns_names), normalized_names(names));
}

// --- 200 issuances, pebble rejecting half of all good nonces ---------------------------

struct SweepFigures {
  std::atomic<int> issued{0};
  std::atomic<int> failed{0};                 // still failing after kIssueAttempts
  std::atomic<int> needed_issuance_retry{0};  // issued, but not on the first issue_certificate
  std::atomic<int> issuance_retries{0};       // failed issue_certificate calls that were retried
  std::atomic<std::size_t> bad_nonce_retries{0};
  std::atomic<std::size_t> requests{0};
};

constexpr int kIssueAttempts = 3;

// One account and session; `count` issuances of one fresh name each, each retried as a
// whole (a new order) at most kIssueAttempts - 1 times.
void sweep_worker(const PebbleEnv& env, Http01Responder& responder, int count, SweepFigures& f) {
  CurlTransportOptions options;
  options.trust_file = env.tls_root;
  auto transport = CurlTransport::create(options);
  agent::SystemClock clock;
  agent::SleepingWaiter waiter;
  auto session = transport ? AcmeSession::open(**transport, clock, waiter, env.directory_url)
                           : Result<AcmeSession>(std::unexpected(transport.error()));
  auto key = PrivateKey::generate(KeyType::EcP256);
  auto account = session && key ? create_account(*session, std::make_shared<const PrivateKey>(std::move(*key)),
                                                 NewAccountOptions{{}, true, std::nullopt})
                                : Result<Account>(std::unexpected(Error{ErrorKind::Invalid, "no session or key"}));
  if (!account) {
    ADD_FAILURE() << "sweep worker setup: " << account.error().message;
    f.failed += count;
    return;
  }
  for (int i = 0; i < count; ++i) {
    IssueRequest request;
    request.names = fresh_names(1, "sweep");
    int attempt = 1;
    auto issued = issue_certificate(*session, request, responder);
    for (; !issued && attempt < kIssueAttempts; ++attempt) {
      std::printf("issuance-level retry after: %s\n", issued.error().message.c_str());
      ++f.issuance_retries;
      issued = issue_certificate(*session, request, responder);
    }
    if (!issued) {
      ADD_FAILURE() << "issuance failed " << kIssueAttempts << " times: " << issued.error().message;
      ++f.failed;
      continue;
    }
    expect_names(*issued, request.names);
    ++f.issued;
    if (attempt > 1) ++f.needed_issuance_retry;
  }
  f.bad_nonce_retries += session->bad_nonce_retries();
  f.requests += session->request_count();
}

// 200, or CERTAGENT_SWEEP_ISSUANCES (the ThreadSanitizer run of scripts/test takes fewer).
int sweep_issuances() {
  const char* v = std::getenv("CERTAGENT_SWEEP_ISSUANCES");
  const int n = v != nullptr ? std::atoi(v) : 0;
  return n > 0 ? n : 200;
}

TEST(CaFaultNonceSweep, TwoHundredIssuancesAllSucceedWithHalfOfAllNoncesRejected) {
  const int kIssuances = sweep_issuances();
  constexpr int kWorkers = 4;
  const PebbleEnv env = require_pebble_env("nonce50");
  ASSERT_EQ(env.nonce_reject_percent, 50);
  Http01Responder responder(Http01ResponderOptions{"127.0.0.1", env.http01_port});
  ASSERT_TRUE(responder.start());
  SweepFigures f;
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([&, w] { sweep_worker(env, responder, kIssuances / kWorkers + (w < kIssuances % kWorkers), f); });
  for (auto& t : workers) t.join();
  const auto ms = ms_since(start);
  std::printf("nonce sweep: %d/%d issued (%d failed), %d needed an issuance-level retry (%d retries), "
              "%zu badNonce retries inside the client, %zu requests, %lld ms (%d workers)\n",
              f.issued.load(), kIssuances, f.failed.load(), f.needed_issuance_retry.load(),
              f.issuance_retries.load(), f.bad_nonce_retries.load(), f.requests.load(), ms, kWorkers);
  RecordProperty("issued", f.issued.load());
  RecordProperty("needed_issuance_retry", f.needed_issuance_retry.load());
  RecordProperty("bad_nonce_retries", std::to_string(f.bad_nonce_retries.load()));
  RecordProperty("ms", std::to_string(ms));
  EXPECT_EQ(f.issued.load(), kIssuances);
  EXPECT_EQ(f.failed.load(), 0);
  // Half of all nonces rejected: the client must have retried plenty of them itself.
  EXPECT_GT(f.bad_nonce_retries.load(), static_cast<std::size_t>(kIssuances));
  // An issuance-level retry means ten badNonce answers in a row (p = 2^-11 per request).
  EXPECT_LE(f.needed_issuance_retry.load(), kIssuances / 20);
}

// --- authorization reuse ---------------------------------------------------------------

class CaFaultAuthzReuse : public ::testing::TestWithParam<int> {};

// Challenge POSTs pebble has handled: one per authorization the client had to validate
// (exact with nonce rejection off, as in these profiles).
std::size_t challenge_posts(const PebbleEnv& env) {
  std::ifstream in(env.log);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find("POST /chalZ/ -> calling handler()") != std::string::npos) ++n;
  return n;
}

TEST_P(CaFaultAuthzReuse, SecondOrderForTheSameNamesNeedsAChallengeOnlyForAuthorizationsNotReused) {
  constexpr std::size_t kNames = 20;
  const int percent = GetParam();
  const std::string profile = "authz" + std::to_string(percent);
  PebbleInstances pebble(
      {profile + "=default,PEBBLE_WFE_NONCEREJECT=0,PEBBLE_AUTHZREUSE=" + std::to_string(percent)});
  AcmeFlow flow(pebble.env(profile));
  flow.new_account();
  IssueRequest request;
  request.names = fresh_names(kNames, "reuse");
  auto first = issue_certificate(*flow.session, request, *flow.responder);
  ASSERT_TRUE(first) << first.error().message;
  const auto challenged_first = challenge_posts(flow.env);
  ASSERT_EQ(challenged_first, kNames);
  const auto start = Clock::now();
  auto second = issue_certificate(*flow.session, request, *flow.responder);
  const auto ms = ms_since(start);
  ASSERT_TRUE(second) << second.error().message;
  expect_names(*second, request.names);
  const auto challenged = challenge_posts(flow.env) - challenged_first;
  const auto reused = kNames - std::min(challenged, kNames);
  std::printf("PEBBLE_AUTHZREUSE=%d: second order for %zu names: %zu authorizations reused (no challenge), "
              "%zu challenged, %lld ms\n", percent, kNames, reused, challenged, ms);
  RecordProperty("reused", std::to_string(reused));
  if (percent == 0) {
    // pebble places a new authorization when rand.Intn(100) > PEBBLE_AUTHZREUSE, so even 0
    // reuses one with p = 1/100; more than 5 of 20 reused has p < 1e-7.
    EXPECT_GE(challenged, kNames - 5);
  }
  if (percent == 100) {
    EXPECT_EQ(challenged, 0u);
  }
  if (percent == 50) {  // each authorization reused with p = 1/2: all or none has p = 2^-19
    EXPECT_GT(challenged, 0u);
    EXPECT_LT(challenged, kNames);
  }
}

INSTANTIATE_TEST_SUITE_P(Percent, CaFaultAuthzReuse, ::testing::Values(0, 50, 100),
                         [](const auto& info) { return "reuse_" + std::to_string(info.param); });

// --- validation sleep on ---------------------------------------------------------------

// The seconds of every "Sleeping for N seconds before validating" line after `skip` lines.
std::vector<int> pebble_sleeps(const PebbleEnv& env, std::size_t& seen) {
  std::ifstream in(env.log);
  std::vector<int> out;
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    auto at = line.find("Sleeping for ");
    if (at == std::string::npos || n++ < seen) continue;
    out.push_back(std::atoi(line.c_str() + at + 13));
  }
  seen = n;
  return out;
}

TEST(CaFaultValidationSleep, PollingFollowsTheCaWithoutAFixedSleep) {
  constexpr int kIssuances = 3;
  constexpr std::size_t kNames = 2;
  PebbleInstances pebble({"sleepy=default,PEBBLE_VA_NOSLEEP=0,PEBBLE_VA_SLEEPTIME=4"});
  AcmeFlow flow(pebble.env("sleepy"));
  flow.new_account();
  std::size_t seen = 0;
  int slept_total = 0;
  for (int i = 0; i < kIssuances; ++i) {
    IssueRequest request;
    request.names = fresh_names(kNames, "sleepy");
    const auto requests_before = flow.session->request_count();
    const auto start = Clock::now();
    auto issued = issue_certificate(*flow.session, request, *flow.responder);
    const auto ms = ms_since(start);
    ASSERT_TRUE(issued) << issued.error().message;
    expect_names(*issued, request.names);
    const auto sleeps = pebble_sleeps(flow.env, seen);
    // pebble 2.4 validates each challenge more than once (3 times here), sleeping before each.
    ASSERT_GE(sleeps.size(), kNames) << "pebble did not sleep before each validation (is PEBBLE_VA_NOSLEEP off?)";
    const int longest = *std::max_element(sleeps.begin(), sleeps.end());
    slept_total += longest;
    const auto requests = flow.session->request_count() - requests_before;
    std::printf("validation sleep: issuance %d: pebble slept %zu times, up to %d s, issued in %lld ms with %zu requests\n",
                i, sleeps.size(), longest, ms, requests);
    // Back-off from 40 ms doubling to 5 s between looks: done at most ~one interval after
    // the CA is (a fixed sleep per poll would be slower; a busy loop would send many more).
    EXPECT_LE(ms, 2 * longest * 1000 + 2500);
    EXPECT_LE(requests, 12 + 2 * kNames * 10);
  }
  EXPECT_GT(slept_total, 0) << "pebble never slept: the test did not exercise polling";
}

}  // namespace
}  // namespace certagent::integration
