// The ACME client against a real pebble: certificates for 1, 10 and 100 names
// with EC and RSA keys, http-01 really answered by the built-in responder,
// pebble rejecting 5% (and, in one run, 50%) of good nonces.
#include <gtest/gtest.h>

#include <chrono>

#include "acme_flow.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::integration {
namespace {
using namespace certagent::protocol;

struct IssueCase {
  KeyType key;
  size_t names;
};

void PrintTo(const IssueCase& c, std::ostream* os) { *os << to_string(c.key) << " x " << c.names; }

class PebbleIssue : public ::testing::TestWithParam<IssueCase> {};

void expect_issued(const IssuedCertificate& issued, const std::vector<std::string>& names, KeyType key) {
  const auto& leaf = issued.chain.certificates.front().info();
  EXPECT_EQ(normalized_names(leaf.dns_names), normalized_names(names));
  EXPECT_EQ(issued.key->type(), key);
  EXPECT_GE(issued.chain.certificates.size(), 2u);
  auto reparsed = parse_pem_chain(issued.fullchain_pem);
  ASSERT_TRUE(reparsed) << reparsed.error().message;
  EXPECT_TRUE(check_key_matches(reparsed->front(), *issued.key));
}

TEST_P(PebbleIssue, IssuesWithEveryChallengeReallyAnswered) {
  AcmeFlow flow("default");
  EXPECT_GT(flow.env.nonce_reject_percent, 0);
  flow.new_account();
  IssueRequest request;
  request.names = fresh_names(GetParam().names, "issue");
  request.key_type = GetParam().key;
  auto issued = issue_certificate(*flow.session, request, *flow.responder);
  ASSERT_TRUE(issued) << issued.error().message;
  expect_issued(*issued, request.names, GetParam().key);
  // pebble fetched every key authorization from the responder (at least once per name).
  EXPECT_GE(flow.responder->stats().answered, GetParam().names);
  EXPECT_EQ(flow.transport->connections_opened(), 1u);
}

INSTANTIATE_TEST_SUITE_P(KeysAndSizes, PebbleIssue,
                         ::testing::Values(IssueCase{KeyType::EcP256, 1}, IssueCase{KeyType::EcP256, 10},
                                           IssueCase{KeyType::EcP256, 100}, IssueCase{KeyType::Rsa2048, 1},
                                           IssueCase{KeyType::Rsa2048, 10}, IssueCase{KeyType::Rsa2048, 100}),
                         [](const auto& info) {
                           return std::string(info.param.key == KeyType::EcP256 ? "ec_p256" : "rsa_2048") + "_" +
                                  std::to_string(info.param.names) + "_names";
                         });

TEST(PebbleIssueNonces, SucceedsWithHalfOfAllNoncesRejected) {
  AcmeFlow flow("nonce50");
  EXPECT_EQ(flow.env.nonce_reject_percent, 50);
  flow.new_account();
  IssueRequest request;
  request.names = fresh_names(10, "nonce50");
  auto issued = issue_certificate(*flow.session, request, *flow.responder);
  ASSERT_TRUE(issued) << issued.error().message;
  expect_issued(*issued, request.names, KeyType::EcP256);
}

TEST(PebbleIssueCost, OneNameTakesFewRequestsAndAHundredAFewTimesItsTime) {
  auto measure = [](size_t n) {
    auto before_log = ok_or_throw(require_pebble_env("default").request_count(), "pebble log");
    auto start = std::chrono::steady_clock::now();
    AcmeFlow flow("default");  // reads the directory
    flow.new_account();
    IssueRequest request;
    request.names = fresh_names(n, "cost");
    auto issued = issue_certificate(*flow.session, request, *flow.responder);
    EXPECT_TRUE(issued) << issued.error().message;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    auto requests = flow.transport->requests_sent();
    auto logged = ok_or_throw(flow.env.request_count(), "pebble log") - before_log;
    std::printf("issuance of %zu name(s): %lld ms, %llu requests (pebble logged %zu)\n", n, static_cast<long long>(ms),
                static_cast<unsigned long long>(requests), logged);
    ::testing::Test::RecordProperty("ms_" + std::to_string(n), std::to_string(ms));
    ::testing::Test::RecordProperty("requests_" + std::to_string(n), std::to_string(requests));
    return std::pair{ms, requests};
  };
  auto [one_ms, one_requests] = measure(1);
  auto [hundred_ms, hundred_requests] = measure(100);
  // Without nonce rejection, 1 name is 10 requests; pebble's 5% rejection adds a retry now and then.
  EXPECT_LE(one_requests, 15u);
  EXPECT_LE(hundred_requests, 2 * 100 + 30u);  // one read and one answer per name, the rest shared
  (void)one_ms;
  (void)hundred_ms;
}

}  // namespace
}  // namespace certagent::integration
