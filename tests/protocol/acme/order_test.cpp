#include <gtest/gtest.h>

#include "acme_fakes.hpp"
#include "protocol/acme/authorize.hpp"
#include "protocol/acme/finalize.hpp"
#include "protocol/acme/order.hpp"
#include "protocol/acme/jws.hpp"

namespace certagent::protocol {
namespace {
using namespace testing;

std::string order_json(std::string status, std::vector<std::string> names, std::string extra = "") {
  std::string ids, authz;
  for (size_t i = 0; i < names.size(); ++i) {
    ids += (i ? "," : "") + std::string(R"({"type":"dns","value":")") + names[i] + "\"}";
    authz += (i ? "," : "") + std::string("\"https://ca.test/authz/") + std::to_string(i) + "\"";
  }
  return R"({"status":")" + status + R"(","identifiers":[)" + ids + R"(],"authorizations":[)" + authz +
         R"(],"finalize":"https://ca.test/finalize/1")" + extra + "}";
}

std::string authz_json(std::string name, std::string status, std::string token, std::string chall_status = "pending",
                       std::string chall_extra = "") {
  return R"({"status":")" + status + R"(","identifier":{"type":"dns","value":")" + name +
         R"("},"challenges":[{"type":"dns-01","url":"https://ca.test/chal/d-)" + name + R"(","status":"pending","token":"dtok"},)" +
         R"({"type":"http-01","url":"https://ca.test/chal/h-)" + name + R"(","status":")" + chall_status +
         R"(","token":")" + token + "\"" + chall_extra + "}]}";
}

class OrderTest : public AccountSessionTest {
 protected:
  RecordingSolver solver;

  Order pending_order(std::vector<std::string> names) {
    auto o = parse_order(boost::json::parse(order_json("pending", names)).as_object(), "https://ca.test/o/1");
    EXPECT_TRUE(o) << o.error().message;
    return *o;
  }
};

TEST_F(OrderTest, NewOrderSendsDnsIdentifiersAndReadsTheLocation) {
  net.add(Method::Post, "https://ca.test/order",
          reply(201, order_json("pending", {"a.example", "b.example"}), "application/json",
                {{"Location", "https://ca.test/o/1"}}));
  auto o = new_order(*session, NewOrder{{"A.example.", "b.example"}, "", ""});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->url, "https://ca.test/o/1");
  EXPECT_EQ(o->authorizations.size(), 2u);
  auto payload = boost::json::parse(decode_jws(net.sent.back().body).payload).as_object();
  EXPECT_EQ(boost::json::serialize(payload["identifiers"]),
            R"([{"type":"dns","value":"a.example"},{"type":"dns","value":"b.example"}])");
  EXPECT_FALSE(payload.contains("replaces"));  // no renewalInfo in this directory
}

TEST(NewOrderPayload, SendsReplacesAndProfileWhenTheDirectoryOffersThem) {
  ScriptedTransport net;
  SimTime time;
  net.add(Method::Get, kDir, reply_without_nonce(200, directory_json(R"(,"profiles":{"tlsserver":"TLS server"})",
                                                                     R"("renewalInfo":"https://ca.test/ari",)")));
  auto session = AcmeSession::open(net, time, time, kDir);
  ASSERT_TRUE(session);
  auto key = std::make_shared<const PrivateKey>(*PrivateKey::generate(KeyType::EcP256));
  session->set_account(AccountRef{key, "https://ca.test/acct/1"});
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  net.add(Method::Post, "https://ca.test/order",
          reply(201, order_json("pending", {"a.example"}), "application/json", {{"Location", "https://ca.test/o/1"}}));
  auto o = new_order(*session, NewOrder{{"a.example"}, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", "tlsserver"});
  ASSERT_TRUE(o) << o.error().message;
  auto payload = boost::json::parse(decode_jws(net.sent.back().body).payload).as_object();
  EXPECT_EQ(payload["replaces"].as_string(), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
  EXPECT_EQ(payload["profile"].as_string(), "tlsserver");
}

TEST(PollSchedule, RetryAfterZeroOnEveryAnswerStillBacksOff) {
  using std::chrono::milliseconds;
  ClockTime start{std::chrono::seconds(1000)};
  PollSchedule s(PollPolicy{milliseconds(40), milliseconds(5000), std::chrono::seconds(300)}, start);
  int looks = 0;
  ClockTime now = start;
  for (auto next = s.next(now, std::chrono::seconds(0), "x"); next; next = s.next(now, std::chrono::seconds(0), "x")) {
    now = *next;
    ++looks;
  }
  EXPECT_EQ(now, s.deadline());
  EXPECT_LE(looks, 70);  // 40 ms doubling to 5 s, then every 5 s for 300 s: 67 looks, not 7,500 at 40 ms
}

TEST(PollSchedule, BacksOffHonoursRetryAfterNeverFasterThanTheBackOffAndStopsAtTheDeadline) {
  using std::chrono::milliseconds;
  ClockTime start{std::chrono::seconds(1000)};
  PollSchedule s(PollPolicy{milliseconds(40), milliseconds(100), std::chrono::seconds(1)}, start);
  EXPECT_EQ(*s.next(start, std::nullopt, "x") - start, milliseconds(40));
  EXPECT_EQ(*s.next(start, std::nullopt, "x") - start, milliseconds(80));
  EXPECT_EQ(*s.next(start, std::nullopt, "x") - start, milliseconds(100));  // capped
  EXPECT_EQ(*s.next(start, std::chrono::seconds(0), "x") - start, milliseconds(100));  // a hostile "0": backed off still
  EXPECT_EQ(*s.next(start, std::chrono::seconds(3600), "x"), s.deadline());  // not past the deadline
  auto late = s.next(s.deadline(), std::nullopt, "waiting for x");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, ErrorKind::Timeout);
  EXPECT_NE(late.error().message.find("waiting for x: still not done after 1 s"), std::string::npos);
}

// hand_back_after: a long Retry-After hands the wait back at once, with the CA's value; a
// Retry-After of 0 on every answer is polled on the back-off until the bound, then handed back.
TEST(PollSchedule, HandsTheWaitBackOnceTheNextLookIsPastTheBound) {
  using std::chrono::milliseconds;
  ClockTime start{std::chrono::seconds(1000)};
  PollPolicy policy{milliseconds(40), milliseconds(5000), std::chrono::seconds(300), std::chrono::seconds(10)};
  PollSchedule now_or_never(policy, start);
  auto far = now_or_never.next(start, std::chrono::seconds(999999999), "waiting for x");
  ASSERT_FALSE(far);
  EXPECT_TRUE(is_pending_at_ca(far.error())) << far.error().message;
  EXPECT_EQ(far.error().retry_after, std::chrono::seconds(999999999));
  PollSchedule zero(policy, start);
  ClockTime now = start;
  int looks = 0;
  Result<ClockTime> next = zero.next(now, std::chrono::seconds(0), "x");
  for (; next; next = zero.next(now, std::chrono::seconds(0), "x")) {
    now = *next;
    ++looks;
  }
  EXPECT_TRUE(is_pending_at_ca(next.error())) << next.error().message;
  EXPECT_LE(now - start, std::chrono::seconds(10));
  EXPECT_LE(looks, 10);
  EXPECT_FALSE(is_pending_at_ca(Error(ErrorKind::Timeout, "still not done after 300 s")));
}

TEST_F(OrderTest, NewOrderWithoutLocationIsAProtocolError) {
  net.add(Method::Post, "https://ca.test/order", reply(201, order_json("pending", {"a.example"})));
  auto o = new_order(*session, NewOrder{{"a.example"}, "", ""});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().kind, ErrorKind::Protocol);
  EXPECT_NE(o.error().message.find("Location"), std::string::npos);
}

TEST_F(OrderTest, NewOrderWithOtherIdentifiersIsRefused) {
  net.add(Method::Post, "https://ca.test/order",
          reply(201, order_json("pending", {"evil.example"}), "application/json", {{"Location", "https://ca.test/o/1"}}));
  auto o = new_order(*session, NewOrder{{"a.example"}, "", ""});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().kind, ErrorKind::Protocol);
}

TEST_F(OrderTest, NewOrderWithMoreAuthorizationsThanIdentifiersIsRefusedBeforeFetchingAny) {
  std::string authz;
  for (int i = 0; i < 900; ++i) authz += (i ? ",\"" : "\"") + std::string("https://ca.test/authz/0\"");
  net.add(Method::Post, "https://ca.test/order",
          reply(201, R"({"status":"pending","identifiers":[{"type":"dns","value":"a.example"},)"
                     R"({"type":"dns","value":"b.example"}],"authorizations":[)" + authz +
                     R"(],"finalize":"https://ca.test/finalize/1"})",
                "application/json", {{"Location", "https://ca.test/o/1"}}));
  auto o = new_order(*session, NewOrder{{"a.example", "b.example"}, "", ""});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().kind, ErrorKind::Protocol);
  EXPECT_NE(o.error().message.find("900 authorizations for 2 identifier(s)"), std::string::npos) << o.error().message;
  for (const auto& sent : net.sent) EXPECT_EQ(sent.url.find("/authz/"), std::string::npos) << sent.url;
}

TEST_F(OrderTest, NewOrderRefusesTooManyNamesAndUnofferedProfiles) {
  std::vector<std::string> many;
  for (int i = 0; i < 1001; ++i) many.push_back("n" + std::to_string(i) + ".example");
  auto o = new_order(*session, NewOrder{many, "", ""});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().kind, ErrorKind::Invalid);
  EXPECT_NE(o.error().message.find("at most 1000"), std::string::npos);
  auto p = new_order(*session, NewOrder{{"a.example"}, "", "shortlived"});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("profile"), std::string::npos);
}

TEST_F(OrderTest, OrderWithUnknownStatusOrTooManyAuthorizationsIsRefused) {
  auto bad = parse_order(boost::json::parse(order_json("weird", {"a.example"})).as_object(), "u");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Protocol);
  std::string authz;
  for (int i = 0; i < 1001; ++i) authz += (i ? ",\"" : "\"") + std::string("https://ca.test/a\"");
  auto big = parse_order(boost::json::parse(R"({"status":"pending","identifiers":[],"authorizations":[)" + authz +
                                            R"(],"finalize":"f"})").as_object(), "u");
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("more than the 1000"), std::string::npos);
}

TEST_F(OrderTest, PresentsAllAnswersAllThenWatchesTheOrderAndCleansUp) {
  auto order = pending_order({"a.example", "b.example", "c.example"});
  net.add(Method::Post, "https://ca.test/authz/0", reply(200, authz_json("a.example", "pending", "tokA")));
  net.add(Method::Post, "https://ca.test/authz/1", reply(200, authz_json("b.example", "valid", "tokB", "valid")));
  net.add(Method::Post, "https://ca.test/authz/2", reply(200, authz_json("c.example", "pending", "tokC")));
  net.add(Method::Post, "https://ca.test/chal/h-a.example", reply(200, "{}"));
  net.add(Method::Post, "https://ca.test/chal/h-c.example", reply(200, "{}"));
  net.add(Method::Post, "https://ca.test/o/1", reply(200, order_json("pending", {"a.example", "b.example", "c.example"})));
  net.add(Method::Post, "https://ca.test/o/1", reply(200, order_json("ready", {"a.example", "b.example", "c.example"})));
  auto r = authorize_order(*session, order, solver, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, "ready");
  ASSERT_EQ(solver.presented.size(), 2u);  // the valid authorization is skipped
  EXPECT_EQ(solver.presented[0].identifier, "a.example");
  EXPECT_EQ(solver.presented[0].key_authorization, "tokA." + *jwk_thumbprint(*account_key));
  EXPECT_EQ(solver.cleaned.size(), 2u);
  EXPECT_EQ(decode_jws(net.sent[5].body).payload, "{}");  // challenge answers are {}
  EXPECT_EQ(decode_jws(net.sent[3].body).payload, "");    // authorization reads are POST-as-GET
  // A short first look, then back-off.
  EXPECT_EQ(time.waits, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(40), std::chrono::milliseconds(80)}));
  EXPECT_TRUE(net.script.empty());
}

TEST_F(OrderTest, EveryKeyAuthorizationOfTheSessionUsesTheAccountThumbprintComputedOnce) {
  const std::vector<std::string> names{"a.example", "b.example", "c.example"};
  for (int round = 0; round < 2; ++round) {  // two orders through one session
    for (size_t i = 0; i < names.size(); ++i)
      net.add(Method::Post, "https://ca.test/authz/" + std::to_string(i),
              reply(200, authz_json(names[i], "pending", "tok" + std::to_string(round) + std::to_string(i))));
    for (const auto& n : names) net.add(Method::Post, "https://ca.test/chal/h-" + n, reply(200, "{}"));
    net.add(Method::Post, "https://ca.test/o/1", reply(200, order_json("ready", names)));
    auto r = authorize_order(*session, pending_order(names), solver, {});
    ASSERT_TRUE(r) << r.error().message;
  }
  const std::string thumbprint = *jwk_thumbprint(*account_key);  // RFC 7638 (jws_test checks it)
  ASSERT_EQ(solver.presented.size(), 6u);
  for (const auto& task : solver.presented) {
    EXPECT_EQ(task.key_authorization, task.token + "." + thumbprint) << task.identifier;
    EXPECT_EQ(task.dns01_value, dns01_value(task.key_authorization)) << task.identifier;
  }
  EXPECT_EQ(session->thumbprint_computations(), 1u) << "once for the session, not once per challenge";
  EXPECT_TRUE(net.script.empty());
}

TEST_F(OrderTest, RetryAfterOnTheOrderPacesThePolling) {
  auto order = pending_order({"a.example"});
  net.add(Method::Post, "https://ca.test/authz/0", reply(200, authz_json("a.example", "pending", "tokA")));
  net.add(Method::Post, "https://ca.test/chal/h-a.example", reply(200, "{}"));
  net.add(Method::Post, "https://ca.test/o/1",
          reply(200, order_json("pending", {"a.example"}), "application/json", {{"Retry-After", "3"}}));
  net.add(Method::Post, "https://ca.test/o/1", reply(200, order_json("ready", {"a.example"})));
  ASSERT_TRUE(authorize_order(*session, order, solver, {}));
  ASSERT_EQ(time.waits.size(), 2u);
  EXPECT_EQ(time.waits[1], std::chrono::seconds(3));
}

TEST_F(OrderTest, OrderGoneInvalidNamesTheFailingNameAndReasonAndCleansUp) {
  auto order = pending_order({"a.example"});
  net.add(Method::Post, "https://ca.test/authz/0", reply(200, authz_json("a.example", "pending", "tokA")));
  net.add(Method::Post, "https://ca.test/chal/h-a.example", reply(200, "{}"));
  net.add(Method::Post, "https://ca.test/o/1", reply(200, order_json("invalid", {"a.example"})));
  net.add(Method::Post, "https://ca.test/authz/0",
          reply(200, authz_json("a.example", "invalid", "tokA", "invalid",
                                R"(,"error":{"type":"urn:ietf:params:acme:error:incorrectResponse","detail":"got 404"})")));
  auto r = authorize_order(*session, order, solver, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Unauthorized);
  EXPECT_NE(r.error().message.find("a.example (invalid): incorrectResponse: got 404"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(solver.cleaned.size(), 1u);
}

TEST_F(OrderTest, ValidationTimesOutClearlyAndCleansUp) {
  auto order = pending_order({"a.example"});
  net.add(Method::Post, "https://ca.test/authz/0", reply(200, authz_json("a.example", "pending", "tokA")));
  net.add(Method::Post, "https://ca.test/chal/h-a.example", reply(200, "{}"));
  for (int i = 0; i < 20; ++i)
    net.add(Method::Post, "https://ca.test/o/1", reply(200, order_json("pending", {"a.example"})));
  AuthorizeOptions options;
  options.poll.total = std::chrono::seconds(2);
  auto start = time.now();
  auto r = authorize_order(*session, order, solver, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
  EXPECT_NE(r.error().message.find("still not done after 2 s"), std::string::npos) << r.error().message;
  EXPECT_EQ(time.now() - start, std::chrono::seconds(2));
  EXPECT_EQ(solver.cleaned.size(), 1u);
}

TEST_F(OrderTest, TokenThatIsNotBase64UrlIsRefusedBeforeAnythingIsPresented) {
  auto order = pending_order({"a.example"});
  net.add(Method::Post, "https://ca.test/authz/0", reply(200, authz_json("a.example", "pending", "../../etc/passwd")));
  auto r = authorize_order(*session, order, solver, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
  EXPECT_NE(r.error().message.find("not base64url"), std::string::npos);
  EXPECT_TRUE(solver.presented.empty());
}

TEST_F(OrderTest, AuthorizationForANameNotInTheOrderIsRefused) {
  auto order = pending_order({"a.example"});
  net.add(Method::Post, "https://ca.test/authz/0", reply(200, authz_json("evil.example", "pending", "tok")));
  auto r = authorize_order(*session, order, solver, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
}

TEST_F(OrderTest, PresentFailureWithdrawsWhatWasPresented) {
  auto order = pending_order({"a.example"});
  net.add(Method::Post, "https://ca.test/authz/0", reply(200, authz_json("a.example", "pending", "tokA")));
  solver.fail_present = true;
  auto r = authorize_order(*session, order, solver, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("presenting the http-01 challenge for a.example"), std::string::npos);
}

TEST_F(OrderTest, FinalizeSendsTheCsrAndPollsProcessingWithRetryAfter) {
  auto order = *parse_order(boost::json::parse(order_json("ready", {"a.example"})).as_object(), "https://ca.test/o/1");
  net.add(Method::Post, "https://ca.test/finalize/1",
          reply(200, order_json("processing", {"a.example"}), "application/json", {{"Retry-After", "1"}}));
  net.add(Method::Post, "https://ca.test/o/1",
          reply(200, order_json("valid", {"a.example"}, R"(,"certificate":"https://ca.test/cert/1")")));
  auto r = finalize_order(*session, order, "\x30\x82" "csr", {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->certificate, "https://ca.test/cert/1");
  auto payload = boost::json::parse(decode_jws(net.sent[2].body).payload).as_object();
  EXPECT_EQ(payload["csr"].as_string(), base64url_encode("\x30\x82" "csr"));
  EXPECT_EQ(time.waits, (std::vector<std::chrono::milliseconds>{std::chrono::seconds(1)}));
}

TEST_F(OrderTest, OrderNotReadyRereadsTheOrder) {
  auto order = *parse_order(boost::json::parse(order_json("ready", {"a.example"})).as_object(), "https://ca.test/o/1");
  net.add(Method::Post, "https://ca.test/finalize/1", problem(403, "orderNotReady", "not yet"));
  net.add(Method::Post, "https://ca.test/o/1",
          reply(200, order_json("valid", {"a.example"}, R"(,"certificate":"https://ca.test/cert/1")")));
  auto r = finalize_order(*session, order, "csr", {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, "valid");
}

TEST_F(OrderTest, FinalizedOrderGoneInvalidIsRejected) {
  auto order = *parse_order(boost::json::parse(order_json("ready", {"a.example"})).as_object(), "https://ca.test/o/1");
  net.add(Method::Post, "https://ca.test/finalize/1",
          reply(200, order_json("invalid", {"a.example"},
                                R"(,"error":{"type":"urn:ietf:params:acme:error:badCSR","detail":"key too weak"})")));
  auto r = finalize_order(*session, order, "csr", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Rejected);
  EXPECT_NE(r.error().message.find("badCSR: key too weak"), std::string::npos);
}

}  // namespace
}  // namespace certagent::protocol
