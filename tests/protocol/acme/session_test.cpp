#include <gtest/gtest.h>

#include <set>

#include "acme_fakes.hpp"
#include "protocol/acme/account.hpp"
#include "protocol/acme/json.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/acme/jws.hpp"
#include "protocol/acme/problem.hpp"

namespace certagent::protocol {
namespace {
using namespace testing;

class SessionTest : public ScriptedCaTest {
 protected:
  AcmeSession open(std::string dir = directory_json()) {
    auto s = open_session(std::move(dir));
    s.set_account(AccountRef{key, "https://ca.test/acct/1"});
    return s;
  }
  std::string sent_nonce(size_t i) { return std::string(decode_jws(net.sent.at(i).body).header.at("nonce").as_string()); }
};

TEST_F(SessionTest, TheAccountThumbprintIsRfc7638sComputedOnceAndAgainOnlyForANewKey) {
  auto s = open();
  EXPECT_EQ(s.thumbprint_computations(), 0u) << "not before a key authorization asks for it";
  auto first = s.account_thumbprint();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, *jwk_thumbprint(*key));
  EXPECT_EQ(first->size(), 43u) << "base64url of a SHA-256, no padding";
  EXPECT_EQ(*s.account_thumbprint(), *first);
  s.set_account(AccountRef{key, "https://ca.test/acct/2"});  // the same key at another URL
  EXPECT_EQ(*s.account_thumbprint(), *first);
  EXPECT_EQ(s.thumbprint_computations(), 1u);

  ScriptedTransport other_net;
  auto sibling = s.sibling(other_net);
  EXPECT_EQ(*sibling.account_thumbprint(), *first);
  EXPECT_EQ(sibling.thumbprint_computations(), 0u) << "a sibling copies what was computed";

  auto new_key = std::make_shared<const PrivateKey>(*PrivateKey::generate(KeyType::EcP384));
  s.set_account(AccountRef{new_key, "https://ca.test/acct/2"});  // a key change (§7.3.5)
  auto second = s.account_thumbprint();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*second, *jwk_thumbprint(*new_key));
  EXPECT_NE(*second, *first);
  EXPECT_EQ(s.thumbprint_computations(), 2u);
  EXPECT_EQ(*sibling.account_thumbprint(), *first) << "the sibling still signs with its own account";
}

TEST_F(SessionTest, WithoutAnAccountKeyThereIsNoThumbprint) {
  net.add(Method::Get, kDir, reply_without_nonce(200, directory_json()));
  auto s = AcmeSession::open(net, time, time, kDir);
  ASSERT_TRUE(s) << s.error().message;
  auto t = s->account_thumbprint();
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("no account key"), std::string::npos) << t.error().message;
}

TEST_F(SessionTest, ReadsTheDirectoryAndItsMeta) {
  auto s = open(directory_json(R"(,"externalAccountRequired":true,"profiles":{"classic":"x","tlsserver":"y"})",
                               R"("renewalInfo":"https://ca.test/ari",)"));
  EXPECT_EQ(s.directory().new_order, "https://ca.test/order");
  EXPECT_EQ(s.directory().terms_of_service, "https://ca.test/tos");
  EXPECT_TRUE(s.directory().external_account_required);
  EXPECT_EQ(s.directory().profiles, (std::vector<std::string>{"classic", "tlsserver"}));
  EXPECT_EQ(s.directory().renewal_info, "https://ca.test/ari");
}

TEST_F(SessionTest, DirectoryWithoutNewOrderIsAProtocolError) {
  net.add(Method::Get, kDir, reply(200, R"({"newNonce":"https://ca.test/n","newAccount":"https://ca.test/a"})"));
  auto s = AcmeSession::open(net, time, time, kDir);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Protocol);
  EXPECT_NE(s.error().message.find("newOrder"), std::string::npos);
}

TEST_F(SessionTest, MalformedDirectoryJsonIsAProtocolError) {
  net.add(Method::Get, kDir, reply(200, R"({"newNonce": "https://ca.test/n",)"));
  auto s = AcmeSession::open(net, time, time, kDir);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Protocol);
  EXPECT_NE(s.error().message.find("not valid JSON"), std::string::npos);
}

TEST_F(SessionTest, DirectoryInTheWrongContentTypeIsRefused) {
  net.add(Method::Get, kDir, reply(200, directory_json(), "text/html"));
  auto s = AcmeSession::open(net, time, time, kDir);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Protocol);
}

TEST_F(SessionTest, ARedirectIsAnErrorNamingItNeverAResponse) {
  net.add(Method::Get, kDir, reply(302, "", "text/plain", {{"Location", std::string(kDir) + "\x1b[2J"}}));
  auto s = AcmeSession::open(net, time, time, kDir);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Protocol);
  EXPECT_NE(s.error().message.find("HTTP 302, a redirect to"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find('\x1b'), std::string::npos);
  auto ok = open();
  const size_t before = net.sent.size();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  net.add(Method::Post, "https://ca.test/o/1", reply(307, "{}", "application/json", {{"Location", "https://ca.test/o/1"}}));
  auto r = ok.post_as_get("https://ca.test/o/1", "reading the order");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("reading the order: the CA answered HTTP 307"), std::string::npos) << r.error().message;
  EXPECT_EQ(net.sent.size(), before + 2);  // a nonce, one POST: never followed
}

TEST_F(SessionTest, OversizedBodyIsAProtocolError) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  net.add(Method::Post, "https://ca.test/o/1", reply(200, "{\"a\":\"" + std::string(kMaxJsonBytes, 'x') + "\"}"));
  auto r = s.post_as_get("https://ca.test/o/1", "reading");
  ASSERT_TRUE(r);
  auto obj = json_body(*r, "order");
  ASSERT_FALSE(obj);
  EXPECT_EQ(obj.error().kind, ErrorKind::Protocol);
  EXPECT_NE(obj.error().message.find("more than"), std::string::npos);
}

TEST_F(SessionTest, FetchesANonceOnlyWhenThePoolIsEmptyAndReusesReplayNonces) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  auto first = reply(200, "{}");
  net.add(Method::Post, "https://ca.test/a", first);
  net.add(Method::Post, "https://ca.test/b", reply(200, "{}"));
  ASSERT_TRUE(s.post_as_get("https://ca.test/a", "a"));
  ASSERT_TRUE(s.post_as_get("https://ca.test/b", "b"));
  EXPECT_EQ(net.sent.size(), 4u);  // directory, one newNonce, two POSTs
  EXPECT_EQ(sent_nonce(3), *first.header("Replay-Nonce"));
  EXPECT_NE(sent_nonce(2), sent_nonce(3));
  EXPECT_EQ(s.request_count(), 4u);
}

TEST_F(SessionTest, BadNonceIsRetriedWithTheNonceFromTheErrorResponse) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  auto bad = problem(400, "badNonce", "JWS has an invalid anti-replay nonce");
  std::string fresh = *bad.header("Replay-Nonce");
  net.add(Method::Post, "https://ca.test/a", bad);
  net.add(Method::Post, "https://ca.test/a", reply(200, "{}"));
  auto r = s.post_as_get("https://ca.test/a", "reading a");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(net.sent.size(), 4u);  // no second newNonce
  EXPECT_EQ(sent_nonce(3), fresh);
  EXPECT_EQ(s.bad_nonce_retries(), 1u);
}

TEST_F(SessionTest, BadNonceRetriesAreBoundedAndNoNonceIsSentTwice) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  for (int i = 0; i < 11; ++i) net.add(Method::Post, "https://ca.test/a", problem(400, "badNonce", "bad"));
  auto r = s.post_as_get("https://ca.test/a", "reading a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::BadNonce);
  EXPECT_TRUE(r.error().retryable);
  std::set<std::string> nonces;
  for (size_t i = 2; i < net.sent.size(); ++i) EXPECT_TRUE(nonces.insert(sent_nonce(i)).second);
  EXPECT_EQ(nonces.size(), 11u);
  EXPECT_EQ(s.bad_nonce_retries(), 10u);  // the 11th badNonce is returned, not retried
}

TEST_F(SessionTest, RateLimitedWithShortRetryAfterWaitsThroughTheWaiterThenSucceeds) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  net.add(Method::Post, "https://ca.test/a", problem(429, "rateLimited", "slow down", {{"Retry-After", "2"}}));
  net.add(Method::Post, "https://ca.test/a", reply(200, "{}"));
  auto before = time.now();
  ASSERT_TRUE(s.post_as_get("https://ca.test/a", "reading a"));
  EXPECT_EQ(time.now() - before, std::chrono::seconds(2));
}

TEST_F(SessionTest, ServiceUnavailableWithAnHttpDateRetryAfterWaitsUntilThen) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  // SimTime starts at 1'700'000'000 s = Tue, 14 Nov 2023 22:13:20 GMT.
  net.add(Method::Post, "https://ca.test/a", reply(503, "", "", {{"Retry-After", "Tue, 14 Nov 2023 22:13:25 GMT"}}));
  net.add(Method::Post, "https://ca.test/a", reply(200, "{}"));
  ASSERT_TRUE(s.post_as_get("https://ca.test/a", "reading a"));
  EXPECT_EQ(time.waits, (std::vector<std::chrono::milliseconds>{std::chrono::seconds(5)}));
}

TEST_F(SessionTest, RateLimitedWithLongRetryAfterIsReturnedToTheCaller) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  net.add(Method::Post, "https://ca.test/a", problem(429, "rateLimited", "too many certificates", {{"Retry-After", "3600"}}));
  auto r = s.post_as_get("https://ca.test/a", "creating an order");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::RateLimited);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_EQ(r.error().retry_after, std::chrono::seconds(3600));
  EXPECT_EQ(r.error().problem_type, "urn:ietf:params:acme:error:rateLimited");
  EXPECT_NE(r.error().message.find("creating an order"), std::string::npos);
  EXPECT_NE(r.error().message.find("too many certificates"), std::string::npos);
  EXPECT_TRUE(time.waits.empty());
}

TEST_F(SessionTest, ServiceUnavailableWithoutRetryAfterIsRetryableError) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  net.add(Method::Post, "https://ca.test/a", reply(503, "<html>down</html>", "text/html"));
  auto r = s.post_as_get("https://ca.test/a", "reading a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::RateLimited);
  EXPECT_TRUE(r.error().retryable);
}

TEST_F(SessionTest, ServiceUnavailableRetriesAreBounded) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  for (int i = 0; i < 4; ++i) net.add(Method::Post, "https://ca.test/a", reply(503, "", "", {{"Retry-After", "1"}}));
  auto r = s.post_as_get("https://ca.test/a", "reading a");
  ASSERT_FALSE(r);
  EXPECT_EQ(time.waits.size(), 3u);
}

TEST_F(SessionTest, NewNonceWithoutReplayNonceIsAProtocolError) {
  auto s = open();
  HttpResponse no_nonce;
  no_nonce.status = 200;
  net.add(Method::Head, "https://ca.test/nonce", no_nonce);
  auto r = s.post_as_get("https://ca.test/a", "reading a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
  EXPECT_NE(r.error().message.find("Replay-Nonce"), std::string::npos);
}

TEST_F(SessionTest, ProblemDetailIsSanitizedAndSubproblemsNamed) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  std::string body = R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"no\u001b[31m way\r\n",)"
                     R"("subproblems":[{"type":"urn:ietf:params:acme:error:caa","detail":"CAA forbids",)"
                     R"("identifier":{"type":"dns","value":"b.example"}}]})";
  net.add(Method::Post, "https://ca.test/a", reply(400, body, "application/problem+json"));
  auto r = s.post("https://ca.test/a", "{}", "creating an order");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Rejected);
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.error().message.find('\r'), std::string::npos);
  EXPECT_NE(r.error().message.find("no\\x1b[31m way"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("b.example: caa: CAA forbids"), std::string::npos) << r.error().message;
}

TEST_F(SessionTest, MalformedProblemDocumentIsAProtocolError) {
  auto s = open();
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  net.add(Method::Post, "https://ca.test/a", reply(400, "{not json", "application/problem+json"));
  auto r = s.post_as_get("https://ca.test/a", "reading a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
}

TEST(Problem, ClassifiesTypes) {
  EXPECT_EQ(classify_problem("urn:ietf:params:acme:error:unauthorized", 403).kind, ErrorKind::Unauthorized);
  EXPECT_EQ(classify_problem("urn:ietf:params:acme:error:externalAccountRequired", 403).kind, ErrorKind::Unauthorized);
  EXPECT_EQ(classify_problem("urn:ietf:params:acme:error:badCSR", 400).kind, ErrorKind::Rejected);
  auto internal = classify_problem("urn:ietf:params:acme:error:serverInternal", 500);
  EXPECT_EQ(internal.kind, ErrorKind::ServerInternal);
  EXPECT_TRUE(internal.retryable);
  EXPECT_EQ(classify_problem("about:blank", 502).kind, ErrorKind::ServerInternal);
  EXPECT_EQ(classify_problem("https://example.com/other", 400).kind, ErrorKind::Protocol);
}

}  // namespace
}  // namespace certagent::protocol
