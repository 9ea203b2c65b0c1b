#pragma once
// Test doubles for the ACME client: a transport that replays a recorded
// exchange (and checks each request against it), simulated time, a solver
// that records what it was asked to do.
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "protocol/acme/session.hpp"
#include "protocol/x509/base64.hpp"
#include "protocol/acme/challenge.hpp"
#include "protocol/http/http.hpp"
#include "protocol/x509/keys.hpp"
#include "protocol/acme/waiting.hpp"

namespace certagent::protocol::testing {

inline constexpr const char* kDir = "https://ca.test/dir";

struct Exchange {
  Method method;
  std::string url;
  HttpResponse response;
};

class ScriptedTransport : public Transport {
 public:
  std::deque<Exchange> script;
  std::vector<HttpRequest> sent;

  Result<HttpResponse> send(const HttpRequest& request) override {
    sent.push_back(request);
    if (script.empty()) {
      ADD_FAILURE() << "unexpected request to " << request.url;
      return fail(ErrorKind::Transport, "no more recorded responses");
    }
    Exchange ex = std::move(script.front());
    script.pop_front();
    EXPECT_EQ(request.method, ex.method) << "for " << request.url;
    EXPECT_EQ(request.url, ex.url);
    return ex.response;
  }
  void add(Method m, std::string url, HttpResponse r) { script.push_back({m, std::move(url), std::move(r)}); }
};

class SimTime : public Clock, public Waiter {
 public:
  ClockTime t = ClockTime(std::chrono::seconds(1'700'000'000));
  std::vector<std::chrono::milliseconds> waits;
  ClockTime now() const override { return t; }
  Result<void> wait_until(ClockTime d) override {
    waits.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(d - t));
    if (d > t) t = d;
    return ok();
  }
};

class RecordingSolver : public ChallengeSolver {
 public:
  std::vector<ChallengeTask> presented, cleaned;
  bool fail_present = false;
  std::string_view type() const override { return "http-01"; }
  Result<void> present(const ChallengeTask& t) override {
    if (fail_present) return fail(ErrorKind::Invalid, "cannot present");
    presented.push_back(t);
    return ok();
  }
  Result<void> clean_up(const ChallengeTask& t) override {
    cleaned.push_back(t);
    return ok();
  }
};

// A response with a fresh Replay-Nonce (unique per call) and the given extras.
inline HttpResponse reply(int status, std::string body, std::string content_type = "application/json",
                          std::vector<HttpHeader> extra = {}) {
  static int counter = 0;
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.push_back({"Content-Type", content_type});
  r.headers.push_back({"Replay-Nonce", "nonce" + std::to_string(++counter)});
  for (auto& h : extra) r.headers.push_back(std::move(h));
  return r;
}

// A response without a Replay-Nonce (e.g. the directory).
inline HttpResponse reply_without_nonce(int status, std::string body, std::string content_type = "application/json") {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.push_back({"Content-Type", content_type});
  return r;
}

inline HttpResponse problem(int status, std::string_view type, std::string_view detail,
                            std::vector<HttpHeader> extra = {}) {
  boost::json::object p{{"type", std::string("urn:ietf:params:acme:error:") + std::string(type)}, {"detail", detail},
                        {"status", status}};
  return reply(status, boost::json::serialize(p), "application/problem+json", std::move(extra));
}

inline std::string directory_json(std::string extra_meta = "", std::string extra = "") {
  return R"({"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/acct","newOrder":"https://ca.test/order",)"
         R"("revokeCert":"https://ca.test/revoke","keyChange":"https://ca.test/key-change",)" +
         extra + R"("meta":{"termsOfService":"https://ca.test/tos")" + extra_meta + "}}";
}

// The decoded protected header and payload of a JWS request body.
struct SentJws {
  boost::json::object header;
  std::string payload;
  boost::json::object jws;
};
inline SentJws decode_jws(const std::string& body) {
  SentJws out;
  out.jws = boost::json::parse(body).as_object();
  auto h = base64url_decode(std::string(out.jws["protected"].as_string()));
  out.header = boost::json::parse(*h).as_object();
  out.payload = *base64url_decode(std::string(out.jws["payload"].as_string()));
  return out;
}

inline constexpr const char* kAccountUrl = "https://ca.test/acct/1";

// The scripted CA a test talks to: its transport, its clock and an account key (P-256).
class ScriptedCaTest : public ::testing::Test {
 protected:
  ScriptedTransport net;
  SimTime time;
  std::shared_ptr<const PrivateKey> key = std::make_shared<PrivateKey>(*PrivateKey::generate(KeyType::EcP256));

  // A session opened on the directory document `dir` at kDir.
  AcmeSession open_session(std::string dir = directory_json()) {
    net.add(Method::Get, kDir, reply_without_nonce(200, std::move(dir)));
    auto s = AcmeSession::open(net, time, time, kDir);
    EXPECT_TRUE(s) << s.error().message;
    return std::move(*s);
  }
};

// The set-up of the tests of one ACME resource: a session opened on directory_json() at
// kDir, the account kAccountUrl with the fixture's key, and a nonce to be fetched (HEAD).
class AccountSessionTest : public ScriptedCaTest {
 protected:
  const std::shared_ptr<const PrivateKey>& account_key = key;
  std::optional<AcmeSession> session;

  void SetUp() override {
    session.emplace(open_session());
    session->set_account(AccountRef{account_key, kAccountUrl});
    net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  }
};

}  // namespace certagent::protocol::testing
