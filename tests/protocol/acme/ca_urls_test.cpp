// URLs from the CA are checked where they enter (directory entries, Location,
// order, authorization, challenge, finalize and certificate URLs), and what a
// refusal says carries none of the CA's control characters raw: no ESC
// sequence or line break reaches an error (which the agent logs, shows in
// `status` and saves in its back-off state) or a log line.
#include <gtest/gtest.h>

#include "acme_fakes.hpp"
#include "support/log_capture.hpp"
#include "protocol/acme/account.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/acme/order.hpp"

namespace certagent::protocol {
namespace {
using namespace testing;

const std::string kHostileLocation = "https://ca.test/o/1\x1b]0;pwned\x07\x1b[2J\r\nX-Injected: yes";

bool raw_control(const std::string& s) {
  return s.find('\x1b') != std::string::npos || s.find('\n') != std::string::npos ||
         s.find('\r') != std::string::npos || s.find('\x07') != std::string::npos;
}

// Everything acme_log() writes while it lives, at every level.
struct LogCapture : certagent::testing::LogCapture {
  LogCapture() : certagent::testing::LogCapture(acme_log()) {}
};

std::string order_json(std::string finalize = "https://ca.test/finalize/1",
                       std::string authz = "https://ca.test/authz/0", std::string extra = "") {
  return R"({"status":"pending","identifiers":[{"type":"dns","value":"a.example"}],"authorizations":[")" + authz +
         R"("],"finalize":")" + finalize + "\"" + extra + "}";
}

TEST_F(AccountSessionTest, ALocationWithEscapesAndANewlineIsRefusedAndReachesNoMessageRaw) {
  LogCapture log;
  net.add(Method::Post, "https://ca.test/order",
          reply(201, order_json(), "application/json", {{"Location", kHostileLocation}}));
  auto o = new_order(*session, NewOrder{{"a.example"}, "", ""});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().kind, ErrorKind::Protocol);
  EXPECT_NE(o.error().message.find("order URL (Location header) is not https"), std::string::npos)
      << o.error().message;
  EXPECT_FALSE(raw_control(o.error().message)) << o.error().message;
  for (const auto& line : log.lines()) EXPECT_FALSE(raw_control(line)) << line;
}

TEST(CaUrls, AnAccountLocationWithEscapesIsRefused) {
  ScriptedTransport net;
  SimTime time;
  net.add(Method::Get, kDir, reply_without_nonce(200, directory_json()));
  auto s = AcmeSession::open(net, time, time, kDir);
  ASSERT_TRUE(s) << s.error().message;
  net.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  net.add(Method::Post, "https://ca.test/acct",
          reply(201, R"({"status":"valid"})", "application/json", {{"Location", kHostileLocation}}));
  auto key = std::make_shared<PrivateKey>(*PrivateKey::generate(KeyType::EcP256));
  auto a = create_account(*s, key, NewAccountOptions{{}, true, std::nullopt});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::Protocol);
  EXPECT_FALSE(raw_control(a.error().message)) << a.error().message;
  EXPECT_TRUE(s->account().url.empty()) << "the session took the URL";
}

TEST(CaUrls, ADirectoryEntryThatIsNotHttpsIsRefusedWhenTheDirectoryIsRead) {
  for (const std::string& extra : {std::string(R"("renewalInfo":"http://ca.test/ari",)"),
                                   std::string(R"("newAuthz":"https://ca.test/a\u001b[2J",)")}) {
    ScriptedTransport net;
    SimTime time;
    net.add(Method::Get, kDir, reply_without_nonce(200, directory_json("", extra)));
    auto s = AcmeSession::open(net, time, time, kDir);
    ASSERT_FALSE(s) << extra;
    EXPECT_NE(s.error().message.find("only https:// URLs are followed"), std::string::npos) << s.error().message;
    EXPECT_FALSE(raw_control(s.error().message)) << s.error().message;
  }
  ScriptedTransport net;
  SimTime time;
  net.add(Method::Get, kDir,
          reply_without_nonce(200, R"({"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/acct",)"
                                   R"("newOrder":"http://ca.test/order"})"));
  auto s = AcmeSession::open(net, time, time, kDir);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("directory's newOrder is not https"), std::string::npos) << s.error().message;
}

TEST(CaUrls, OrderAuthorizationFinalizeCertificateAndChallengeUrlsMustBeHttps) {
  const auto parse = [](const std::string& text) {
    return parse_order(boost::json::parse(text).as_object(), "https://ca.test/o/1");
  };
  EXPECT_TRUE(parse(order_json()));
  for (const auto& text : {order_json("http://ca.test/finalize/1"), order_json("https://ca.test/f", "ftp://ca.test/a"),
                           order_json("https://ca.test/f", "https://ca.test/a", R"(,"certificate":"https://c\n")")}) {
    auto o = parse(text);
    ASSERT_FALSE(o) << text;
    EXPECT_EQ(o.error().kind, ErrorKind::Protocol);
    EXPECT_FALSE(raw_control(o.error().message)) << o.error().message;
  }
  auto authz = parse_authorization(
      boost::json::parse(R"({"status":"pending","identifier":{"type":"dns","value":"a.example"},)"
                         R"("challenges":[{"type":"http-01","url":"http://ca.test/chal","status":"pending","token":"t"}]})")
          .as_object(),
      "https://ca.test/authz/0");
  ASSERT_FALSE(authz);
  EXPECT_NE(authz.error().message.find("challenge URL is not https"), std::string::npos) << authz.error().message;
}

}  // namespace
}  // namespace certagent::protocol
