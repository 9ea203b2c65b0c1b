#include <gtest/gtest.h>

#include "acme_fakes.hpp"
#include "protocol/acme/account.hpp"
#include "protocol/acme/ari.hpp"
#include "protocol/acme/jws.hpp"

namespace certagent::protocol {
namespace {
using namespace testing;

class AccountTest : public ScriptedCaTest {
 protected:
  AcmeSession open(std::string dir = directory_json()) {
    auto s = open_session(std::move(dir));
    net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
    return s;
  }
  HttpResponse account_reply(int status, std::string body = R"({"status":"valid","contact":["mailto:a@b.example"]})") {
    return reply(status, std::move(body), "application/json", {{"Location", "https://ca.test/acct/9"}});
  }
};

TEST_F(AccountTest, CreateAgreesToTermsSignsWithJwkAndSetsTheSessionAccount) {
  auto s = open();
  net.add(Method::Post, "https://ca.test/acct", account_reply(201));
  auto a = create_account(s, key, NewAccountOptions{{"mailto:a@b.example"}, true, std::nullopt});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->created);
  EXPECT_EQ(a->ref.url, "https://ca.test/acct/9");
  EXPECT_EQ(s.account().url, "https://ca.test/acct/9");
  auto sent = decode_jws(net.sent.back().body);
  EXPECT_TRUE(sent.header.contains("jwk"));
  EXPECT_FALSE(sent.header.contains("kid"));
  auto payload = boost::json::parse(sent.payload).as_object();
  EXPECT_EQ(payload["termsOfServiceAgreed"], true);
  EXPECT_EQ(payload["contact"].as_array().size(), 1u);
}

TEST_F(AccountTest, CreateWithoutAgreeingToTermsIsRefusedLocally) {
  auto s = open();
  auto a = create_account(s, key, NewAccountOptions{});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::Invalid);
  EXPECT_NE(a.error().message.find("terms of service"), std::string::npos);
}

TEST_F(AccountTest, ExternalAccountRequiredNeedsABinding) {
  auto s = open(directory_json(R"(,"externalAccountRequired":true)"));
  auto a = create_account(s, key, NewAccountOptions{{}, true, std::nullopt});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("external account binding"), std::string::npos);
  net.add(Method::Post, "https://ca.test/acct", account_reply(201));
  auto b = create_account(s, key, NewAccountOptions{{}, true, ExternalAccountBinding{"kid-7", "c2VjcmV0"}});
  ASSERT_TRUE(b) << b.error().message;
  auto payload = boost::json::parse(decode_jws(net.sent.back().body).payload).as_object();
  ASSERT_TRUE(payload.contains("externalAccountBinding"));
}

TEST_F(AccountTest, WrongEabKeyIsUnauthorizedWithTheCasDetail) {
  auto s = open(directory_json(R"(,"externalAccountRequired":true)"));
  net.add(Method::Post, "https://ca.test/acct", problem(400, "unauthorized", "EAB signature did not verify"));
  auto a = create_account(s, key, NewAccountOptions{{}, true, ExternalAccountBinding{"kid-7", "d3Jvbmc"}});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::Unauthorized);
  EXPECT_NE(a.error().message.find("EAB signature did not verify"), std::string::npos);
}

TEST_F(AccountTest, MissingLocationIsAProtocolError) {
  auto s = open();
  net.add(Method::Post, "https://ca.test/acct", reply(201, R"({"status":"valid"})"));
  auto a = create_account(s, key, NewAccountOptions{{}, true, std::nullopt});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::Protocol);
}

TEST_F(AccountTest, FindSendsOnlyReturnExistingAndReportsAMissingAccount) {
  auto s = open();
  net.add(Method::Post, "https://ca.test/acct", account_reply(200));
  auto a = find_account(s, key);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->created);
  EXPECT_EQ(boost::json::parse(decode_jws(net.sent.back().body).payload).as_object()["onlyReturnExisting"], true);
  net.add(Method::Post, "https://ca.test/acct", problem(400, "accountDoesNotExist", "no account for this key"));
  auto none = find_account(s, key);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::Unauthorized);
}

TEST_F(AccountTest, UpdateContactsAndDeactivatePostToTheAccountUrlWithKid) {
  auto s = open();
  s.set_account(AccountRef{key, "https://ca.test/acct/9"});
  net.add(Method::Post, "https://ca.test/acct/9", account_reply(200, R"({"status":"valid","contact":["mailto:x@y.example"]})"));
  auto a = update_contacts(s, {"mailto:x@y.example"});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->contact, (std::vector<std::string>{"mailto:x@y.example"}));
  EXPECT_EQ(decode_jws(net.sent.back().body).header.at("kid").as_string(), "https://ca.test/acct/9");
  net.add(Method::Post, "https://ca.test/acct/9", reply(200, R"({"status":"deactivated"})"));
  ASSERT_TRUE(deactivate_account(s));
  EXPECT_EQ(boost::json::parse(decode_jws(net.sent.back().body).payload).as_object()["status"], "deactivated");
}

TEST_F(AccountTest, KeyChangeNestsAJwsSignedByTheNewKey) {
  auto s = open();
  s.set_account(AccountRef{key, "https://ca.test/acct/9"});
  auto new_key = std::make_shared<PrivateKey>(*PrivateKey::generate(KeyType::EcP384));
  net.add(Method::Post, "https://ca.test/key-change", reply(200, R"({"status":"valid"})"));
  ASSERT_TRUE(change_account_key(s, new_key));
  auto outer = decode_jws(net.sent.back().body);
  EXPECT_EQ(outer.header.at("kid").as_string(), "https://ca.test/acct/9");
  EXPECT_EQ(outer.header.at("alg").as_string(), "ES256");
  auto inner = decode_jws(outer.payload);
  EXPECT_EQ(inner.header.at("alg").as_string(), "ES384");
  EXPECT_EQ(inner.header.at("url").as_string(), "https://ca.test/key-change");
  EXPECT_EQ(inner.header.at("jwk").as_object(), *public_jwk(*new_key));
  EXPECT_FALSE(inner.header.contains("nonce"));
  auto inner_payload = boost::json::parse(inner.payload).as_object();
  EXPECT_EQ(inner_payload["account"].as_string(), "https://ca.test/acct/9");
  EXPECT_EQ(inner_payload["oldKey"].as_object(), *public_jwk(*key));
  EXPECT_EQ(s.account().key, new_key);
}

// RFC 9773 §4.1's own example.
TEST(Ari, CertIdOfTheRfcExample) {
  std::string aki = "\x69\x88\x5B\x6B\x87\x46\x40\x41\xE1\xB3\x7B\x84\x7B\xA0\xAE\x2C\xDE\x01\xC8\xD4";
  std::string serial("\x00\x87\x65\x43\x21", 5);
  EXPECT_EQ(*ari_cert_id(aki, serial), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
  EXPECT_FALSE(ari_cert_id("", serial));
}

TEST(Ari, ParsesTheSuggestedWindow) {
  auto info = parse_renewal_info(R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"},)"
                                 R"("explanationURL":"https://acme.example.com/docs/ari"})");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->window_start.time_since_epoch(), std::chrono::seconds(1735790400));
  EXPECT_EQ(info->window_end - info->window_start, std::chrono::hours(24));
  EXPECT_EQ(info->explanation_url, "https://acme.example.com/docs/ari");
}

TEST(Ari, RefusesAnInvertedOrMissingWindow) {
  EXPECT_FALSE(parse_renewal_info(R"({"suggestedWindow":{"start":"2025-01-03T04:00:00Z","end":"2025-01-02T04:00:00Z"}})"));
  EXPECT_FALSE(parse_renewal_info(R"({"explanationURL":"x"})"));
  EXPECT_FALSE(parse_renewal_info(R"({"suggestedWindow":{"start":"yesterday","end":"2025-01-02T04:00:00Z"}})"));
}

TEST(Ari, Rfc3339OffsetsAndFractions) {
  EXPECT_EQ(*parse_acme_time("2025-01-02T05:30:00.123+01:30"), *parse_acme_time("2025-01-02T04:00:00Z"));
  EXPECT_FALSE(parse_acme_time("2025-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_acme_time("2025-01-02 04:00:00"));
}

TEST_F(AccountTest, FetchesRenewalInfoWithRetryAfter) {
  net.add(Method::Get, kDir, reply_without_nonce(200, directory_json("", R"("renewalInfo":"https://ca.test/ari",)")));
  auto s = AcmeSession::open(net, time, time, kDir);
  ASSERT_TRUE(s);
  net.add(Method::Get, "https://ca.test/ari/aYhb.AIdl",
          reply(200, R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"}})",
                "application/json", {{"Retry-After", "21600"}}));
  auto info = fetch_renewal_info(*s, "aYhb.AIdl");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->retry_after, std::chrono::seconds(21600));
}

TEST_F(AccountTest, RenewalInfoWithoutAriIsAClearError) {
  auto s = open();
  auto info = fetch_renewal_info(s, "x.y");
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("does not offer ARI"), std::string::npos);
  net.script.clear();
}

}  // namespace
}  // namespace certagent::protocol
