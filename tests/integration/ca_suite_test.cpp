// The cases that matter, against every CA in ca_suite.hpp: pebble on the host, step-ca in
// step-ca-ctl's namespace (`ctest -R integration.step_ca`). A case a CA cannot run says why
// (GTEST_SKIP with the feature it lacks); docs/ca-compatibility.md lists them per CA.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "acme_flow.hpp"
#include "ca_suite.hpp"
#include "daemon_support.hpp"
#include "engine_support.hpp"
#include "protocol/acme/account.hpp"
#include "protocol/acme/http01_responder.hpp"
#include "protocol/acme/issue.hpp"
#include "protocol/acme/log.hpp"
#include "support/log_capture.hpp"

namespace certagent::integration {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

const std::vector<std::string> kPurposes = {"Default", "WebServicesExternal", "WebServicesInternal"};

std::string describe(const ProcessOutcome& r) {
  return fmt::format("exit {} signal {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.signal, r.out, r.err);
}

std::map<std::string, std::string> thumbprints(const EngineSandbox& box) {
  std::map<std::string, std::string> out;
  for (const auto& [p, c] : box.certs()) out[p] = thumbprint_of(c);
  return out;
}

class CaSuite : public ::testing::TestWithParam<CaUnderTest> {
 protected:
  [[nodiscard]] PebbleEnv env(const std::string& pebble_profile = "default") const {
    return require_ca_env(GetParam(), pebble_profile);
  }
};

TEST_P(CaSuite, SharedIssuanceBindsOneCertificateToEveryPurposeWithEveryName) {
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto certs = box.certs();
  ASSERT_EQ(certs.size(), 3u);
  const std::string thumbprint = thumbprint_of(certs.at("Default"));
  ASSERT_EQ(thumbprint.size(), 40u);
  for (const auto& p : kPurposes) {
    EXPECT_EQ(thumbprint_of(certs.at(p)), thumbprint) << p;
    EXPECT_TRUE(certs.at(p).at("missing").as_array().empty()) << p;
    EXPECT_THAT(names_of(certs.at(p)), IsSupersetOf({"pool01.contoso.net", "lyncdiscover.fabrikam.com",
                                                     "lyncdiscoverinternal.contoso.com", "meet.contoso.com"}));
  }
}

TEST_P(CaSuite, SeparateIssuanceGivesEachPurposeItsOwnCertificate) {
  EngineSandbox box(env());
  box.write_policy(pool("separate"));
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  std::set<std::string> distinct;
  for (const auto& [purpose, t] : thumbprints(box)) distinct.insert(t);
  EXPECT_EQ(distinct.size(), 3u);
}

TEST_P(CaSuite, AnUpToDateCertificateIsKeptWithoutAskingTheCa) {
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  // A CA with renewal information is asked for the new certificate's window once (the next
  // pass), then only at its Retry-After.
  if (GetParam().ari) {
    ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  }
  const auto before = thumbprints(box);
  const auto requests = ca_requests(box.pebble());
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(ca_requests(box.pebble()), requests) << "a pass with nothing to do asks the CA nothing";
  EXPECT_EQ(thumbprints(box), before);
}

TEST_P(CaSuite, AnAddedSipDomainReissuesExactlyTheCertificatesWhoseNamesChanged) {
  EngineSandbox box(env());
  PoolPolicy policy = pool("separate");
  box.write_policy(policy);
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  auto before = thumbprints(box);
  policy.sip_domains.push_back("northwind.com");
  box.write_policy(policy);
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto after = thumbprints(box);
  EXPECT_EQ(after["Default"], before["Default"]) << "Default carries no Autodiscover name";
  EXPECT_NE(after["WebServicesInternal"], before["WebServicesInternal"]);
  EXPECT_NE(after["WebServicesExternal"], before["WebServicesExternal"]);
  EXPECT_THAT(names_of(box.certs().at("WebServicesExternal")), Contains("lyncdiscover.northwind.com"));
}

// Real renewal: the CA's certificates live two minutes, the policy renews when 95% remains.
TEST_P(CaSuite, TheDaemonRenewsBeforeExpiry) {
  EngineSandbox box(env("shortlived"));
  ASSERT_EQ(box.pebble().cert_validity_seconds, 120);
  PoolPolicy policy = pool("shared");
  policy.renewal = "95%";
  box.write_policy(policy);
  AgentProcess agent(box, box.dir() / "agent.log");
  std::set<std::string> seen;
  const bool renewed = poll_until([&] {
    if (auto t = thumbprints(box)["Default"]; t.size() == 40) seen.insert(t);
    return seen.size() >= 2;
  }, 90s);
  EXPECT_TRUE(renewed) << agent.log();
  EXPECT_TRUE(agent.wait_for_log(": renew — certificate", 5s)) << agent.log();
}

TEST_P(CaSuite, AnUnboundCertificateIsRevoked) {
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  auto requested = box.certagent({"request", "--type", "Default"});
  ASSERT_EQ(requested.exit_code, 0) << describe(requested);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(requested.out, m, std::regex("[0-9A-F]{40}"))) << requested.out;
  auto revoked = box.certagent({"revoke", "--thumbprint", m.str(), "--reason", "superseded"});
  EXPECT_EQ(revoked.exit_code, 0) << describe(revoked);
  EXPECT_THAT(revoked.out, HasSubstr("revoked " + m.str()));
}

// RFC 8555 §7.6: the account that ordered it is gone (a new one is registered), and the CA
// refuses the new account; the certificate's own key signs the revocation.
TEST_P(CaSuite, ACertificateOfAnEarlierAccountIsRevokedWithItsOwnKey) {
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  auto requested = box.certagent({"request", "--type", "Default"});
  ASSERT_EQ(requested.exit_code, 0) << describe(requested);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(requested.out, m, std::regex("[0-9A-F]{40}"))) << requested.out;
  std::filesystem::remove_all(box.state() / "accounts");  // the next command registers a new account
  auto revoked = box.certagent({"revoke", "--thumbprint", m.str()});
  EXPECT_EQ(revoked.exit_code, 0) << describe(revoked);
  EXPECT_THAT(revoked.err, HasSubstr("signing it with the certificate's own key"));
  EXPECT_THAT(revoked.out, HasSubstr("revoked " + m.str()));
}

// Eight custom roles, one certificate each, ordered four at once.
TEST_P(CaSuite, EightCertificatesAtConcurrencyFour) {
  EngineSandbox box(env());
  namespace json = boost::json;
  json::array roles;
  for (int i = 1; i <= 8; ++i) {
    const std::string id = fmt::format("site{}", i);
    roles.push_back(json::object{{"role", "custom"}, {"id", id},
                                 {"names", json::object{{id, json::array{id + ".contoso.com"}}}}});
  }
  const json::object policy{
      {"ca", json::object{{"directory", box.pebble().directory_url}, {"trust_bundle", box.pebble().tls_root},
                          {"concurrency", 4}}},
      {"challenge", json::object{{"type", "http-01"},
                                 {"listen", fmt::format("127.0.0.1:{}", box.pebble().http01_port)}}},
      {"roles", roles}};
  std::ofstream(box.policy_file()) << json::serialize(policy) << "\n";
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.err + r.out, HasSubstr("ordering 8 certificate(s), 4 at once (ca.concurrency 4)"));
  std::set<std::string> distinct;
  for (const auto& [purpose, t] : thumbprints(box)) distinct.insert(t);
  EXPECT_EQ(distinct.size(), 8u);
}

TEST_P(CaSuite, KilledMidOrderTheNextRunResumesTheSameOrder) {
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  const auto orders = ca_new_orders(box.pebble());
  auto killed = box.certagent({"run", "--once"}, {"CERTAGENT_FAULT_KILL=engine.order.before_finalize"});
  ASSERT_EQ(killed.signal, SIGKILL) << describe(killed);
  EXPECT_EQ(ca_new_orders(box.pebble()), orders + 1);
  auto next = box.certagent({"run", "--once"});
  ASSERT_EQ(next.exit_code, 0) << describe(next);
  EXPECT_EQ(ca_new_orders(box.pebble()), orders + 1) << "the journaled order was finished, no new one";
  EXPECT_THAT(next.err, HasSubstr("resuming order"));
  EXPECT_EQ(thumbprint_of(box.certs().at("Default")).size(), 40u);
}

// Answers every http-01 challenge with a key authorization of another account.
class WrongAnswers final : public protocol::ChallengeSolver {
 public:
  explicit WrongAnswers(protocol::ChallengeSolver& inner) : inner_(inner) {}
  std::string_view type() const override { return inner_.type(); }
  Result<void> present(const protocol::ChallengeTask& task) override { return inner_.present(wrong(task)); }
  Result<void> clean_up(const protocol::ChallengeTask& task) override { return inner_.clean_up(wrong(task)); }

 private:
  static protocol::ChallengeTask wrong(protocol::ChallengeTask t) {
    t.key_authorization = t.token + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    return t;
  }
  protocol::ChallengeSolver& inner_;
};

// The CA's problem, at once: not a timeout minutes later (step-ca leaves the authorization and
// the order pending; only the challenge response says invalid).
TEST_P(CaSuite, AWrongChallengeAnswerFailsAtOnceWithTheCasProblem) {
  AcmeFlow flow(env());
  flow.new_account();
  WrongAnswers wrong(*flow.responder);
  protocol::IssueRequest request;
  request.names = {"meet.contoso.com"};
  const auto start = std::chrono::steady_clock::now();
  auto issued = protocol::issue_certificate(*flow.session, request, wrong);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(issued);
  EXPECT_LT(took, 5s);
  EXPECT_NE(issued.error().kind, ErrorKind::Timeout) << issued.error().message;
  EXPECT_THAT(issued.error().message, HasSubstr("meet.contoso.com"));
  EXPECT_THAT(issued.error().problem_type, ::testing::StartsWith("urn:ietf:params:acme:error:")) << issued.error().message;
}

// Port 80 closed at first, then open: a CA that revalidates a challenge POSTed again issues in
// the same call.
TEST_P(CaSuite, AChallengeThatCouldNotConnectIsPostedAgainUntilItHeals) {
  if (!GetParam().revalidates_on_post)
    GTEST_SKIP() << GetParam().name << " marks a challenge invalid at the first failed connection: nothing to ask again";
  PebbleEnv ca = env();
  AcmeFlow flow(ca);
  flow.new_account();
  flow.responder->stop();  // nothing on the http-01 port for now
  protocol::Http01ResponderOptions listen;
  listen.address = "127.0.0.1";
  listen.port = ca.http01_port;
  protocol::Http01Responder late(listen);
  const std::string asked_again = "is pending with an error";
  certagent::testing::LogCapture acme(protocol::acme_log());
  const auto heard = [&] {
    const auto lines = acme.lines();
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(asked_again) != std::string::npos; });
  };
  std::thread opener([&] {  // the outage lasts until the CA has found the port closed and said so
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!heard() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    if (auto r = late.start(); !r) ADD_FAILURE() << r.error().message;
  });
  protocol::IssueRequest request;
  request.names = {"dialin.contoso.com"};
  auto issued = protocol::issue_certificate(*flow.session, request, late);
  opener.join();
  late.stop();
  EXPECT_TRUE(heard()) << "the CA never found the port closed";
  EXPECT_TRUE(issued) << issued.error().message;
}

// Killed between journaling the intent and newOrder: the next run looks for the order in the
// account's orders list. step-ca answers a bare array, and reading it while none of the
// account's orders is pending breaks the account (newOrder answers serverInternal from then
// on): the list is not read again, and the account is replaced by a new one, its key kept.
TEST_P(CaSuite, KilledBeforeNewOrderTheNextRunIssuesWhateverTheOrdersListSays) {
  EngineSandbox box(env());
  PoolPolicy policy = pool("shared");
  box.write_policy(policy);
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);  // the account has an order, valid
  policy.sip_domains.push_back("northwind.com");
  box.write_policy(policy);
  auto killed = box.certagent({"run", "--once"}, {"CERTAGENT_FAULT_KILL=engine.order.after_intent"});
  ASSERT_EQ(killed.signal, SIGKILL) << describe(killed);
  auto next = box.certagent({"run", "--once"});
  ASSERT_EQ(next.exit_code, 0) << describe(next);
  EXPECT_THAT(names_of(box.certs().at("Default")), Contains("lyncdiscover.northwind.com"));
  if (GetParam().orders_list) return;
  EXPECT_THAT(next.err, HasSubstr("the account's orders list is not read again")) << next.err;
  EXPECT_THAT(next.err, HasSubstr("replacing account")) << next.err;
  bool kept = false;
  for (const auto& dir : std::filesystem::directory_iterator(box.state() / "accounts"))
    for (const auto& f : std::filesystem::directory_iterator(dir))
      kept = kept || f.path().filename().string().starts_with("retired-");
  EXPECT_TRUE(kept) << "the replaced account's key is kept";
  // Killed there again: the list is not read, and the new account orders.
  policy.sip_domains.push_back("adatum.com");
  box.write_policy(policy);
  auto killed_again = box.certagent({"run", "--once"}, {"CERTAGENT_FAULT_KILL=engine.order.after_intent"});
  ASSERT_EQ(killed_again.signal, SIGKILL) << describe(killed_again);
  auto last = box.certagent({"run", "--once"});
  ASSERT_EQ(last.exit_code, 0) << describe(last);
  EXPECT_THAT(last.err, HasSubstr("the CA's orders list is not read"));
  EXPECT_THAT(last.err, ::testing::Not(HasSubstr("replacing account")));
}

TEST_P(CaSuite, AccountKeyRollover) {
  if (!GetParam().key_change) GTEST_SKIP() << GetParam().name << " does not implement keyChange (501 notImplemented)";
  AcmeFlow flow(env());
  flow.new_account();
  auto key = std::make_shared<const protocol::PrivateKey>(
      ok_or_throw(protocol::PrivateKey::generate(protocol::KeyType::EcP256), "key"));
  auto rolled = protocol::change_account_key(*flow.session, key);
  ASSERT_TRUE(rolled) << rolled.error().message;
}

TEST_P(CaSuite, AriWindowFromTheCaSetsTheRenewalTime) {
  if (!GetParam().ari) GTEST_SKIP() << GetParam().name << " offers no renewalInfo (ARI, RFC 9773)";
  EngineSandbox box(env());
  box.write_policy(pool("shared"));
  auto first = box.certagent({"run", "--once"});  // issues, then asks the CA for the new certificate's window
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  EXPECT_THAT(first.err, HasSubstr("the CA suggests renewing certificate"));
  auto status = box.certagent({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << describe(status);
  const auto v = boost::json::parse(status.out);
  const auto& c = v.at("certificates").at(0);
  EXPECT_EQ(c.at("renewal_basis"), "ari") << status.out;
  ASSERT_EQ(c.at("ari").as_array().size(), 1u) << status.out;
  const auto& w = c.at("ari").at(0);
  EXPECT_LE(std::string(w.at("window_start").as_string()), std::string(c.at("schedule").at("renew_at").as_string()));
  EXPECT_GE(std::string(w.at("window_end").as_string()), std::string(c.at("schedule").at("renew_at").as_string()));
  EXPECT_EQ(v.at("ari").at("offered"), true);
}

TEST_P(CaSuite, CertificateProfiles) {
  if (!GetParam().profiles) GTEST_SKIP() << GetParam().name << " offers no certificate profiles";
  AcmeFlow flow(env());
  EXPECT_FALSE(flow.session->directory().profiles.empty());
}

INSTANTIATE_TEST_SUITE_P(Cas, CaSuite, ::testing::ValuesIn(cas_in_this_process()),
                         [](const ::testing::TestParamInfo<CaUnderTest>& info) { return info.param.name; });

}  // namespace
}  // namespace certagent::integration
