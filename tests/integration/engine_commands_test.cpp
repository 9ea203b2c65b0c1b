// `request`, `revoke` and the back-off of `run --once`, against pebble.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <regex>

#include "engine_support.hpp"

namespace certagent::integration {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::string describe(const ProcessOutcome& r) { return "stdout:\n" + r.out + "\nstderr:\n" + r.err; }

std::string printed_thumbprint(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("Thumbprint : ([0-9A-F]{40})")) ? m[1].str() : "";
}

TEST(EngineCommands, RequestWithAllSipDomainsAndAssignBindsTheNewCertificate) {
  EngineSandbox box;
  box.write_policy(pool("separate"));
  auto r = box.certagent({"request", "--type", "WebServicesExternal", "--all-sip-domains", "--assign"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string thumbprint = printed_thumbprint(r.out);
  ASSERT_FALSE(thumbprint.empty()) << r.out;
  auto wse = box.certs().at("WebServicesExternal");
  EXPECT_EQ(thumbprint_of(wse), thumbprint);
  EXPECT_TRUE(wse.at("missing").as_array().empty());
  EXPECT_THAT(names_of(wse), Contains("lyncdiscover.fabrikam.com"));
}

TEST(EngineCommands, RequestWithAnExplicitDomainListStoresButAssignRefusesTheMissingNames) {
  EngineSandbox box;
  box.write_policy(pool("separate"));
  auto r = box.certagent(
      {"request", "--type", "WebServicesExternal", "--domain-name", "lyncdiscover.contoso.com", "--assign"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_FALSE(printed_thumbprint(r.out).empty()) << "the certificate was obtained and stored";
  EXPECT_THAT(r.err, HasSubstr("not assigned: WebServicesExternal lacks lyncdiscover.fabrikam.com"));
  EXPECT_TRUE(box.certs().at("WebServicesExternal").at("thumbprint").is_null());
}

TEST(EngineCommands, RequestRefusesADomainNameWithoutTheTypesPrefixBeforeAnyKeyOrOrder) {
  EngineSandbox box;
  box.write_policy(pool("separate"));
  const auto orders = new_order_count(box.pebble());
  auto r = box.certagent({"request", "--type", "WebServicesInternal", "--domain-name", "Lyncdiscover.contoso.com"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("you must use an appropriate prefix for the SIP domain FQDN"));
  EXPECT_THAT(r.err, HasSubstr("lyncdiscoverinternal.contoso.com (WebServicesInternal)"));
  EXPECT_EQ(new_order_count(box.pebble()), orders) << "the CA saw no order";
  EXPECT_FALSE(std::filesystem::exists(box.state() / "certs") && !std::filesystem::is_empty(box.state() / "certs"))
      << "nothing stored";
}

TEST(EngineCommands, RevokeRefusesABoundCertificateAndRevokesAnUnboundOne) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  const std::string bound = thumbprint_of(box.certs().at("Default"));
  auto refused = box.certagent({"revoke", "--thumbprint", bound});
  EXPECT_EQ(refused.exit_code, 1) << describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("still bound to Default"));

  auto requested = box.certagent({"request", "--type", "Default"});
  ASSERT_EQ(requested.exit_code, 0) << describe(requested);
  const std::string spare = printed_thumbprint(requested.out);
  auto revoked = box.certagent({"revoke", "--thumbprint", spare, "--reason", "superseded"});
  EXPECT_EQ(revoked.exit_code, 0) << describe(revoked);
  EXPECT_THAT(revoked.out, HasSubstr("revoked " + spare));
  auto bad_reason = box.certagent({"revoke", "--thumbprint", spare, "--reason", "boredom"});
  EXPECT_EQ(bad_reason.exit_code, 2);
}

// Points the sandbox's policy at a CA that is not there (a closed loopback port).
void point_at_a_dead_ca(const EngineSandbox& box) {
  auto text = [&] {
    std::ifstream in(box.policy_file());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  text = std::regex_replace(text, std::regex("https://127\\.0\\.0\\.1:[0-9]+/dir"), "https://127.0.0.1:1/dir");
  std::ofstream(box.policy_file()) << text;
}

// The first pass really tries the CA and fails (nothing listens on port 1: refused at once, so
// the test is quick); the second does not try again, and says until when it waits and why.
TEST(EngineCommands, AFailedPassBacksOffAndTheNextPassSaysSo) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  point_at_a_dead_ca(box);
  auto first = box.certagent({"run", "--once"});
  EXPECT_EQ(first.exit_code, 1) << describe(first);
  EXPECT_THAT(first.err, HasSubstr("front-end: issue failed: opening the ACME directory https://127.0.0.1:1/dir"));
  EXPECT_THAT(first.err, HasSubstr("connecting to 127.0.0.1:1"));
  EXPECT_THAT(first.err, HasSubstr("after 1 consecutive failure"));
  std::smatch retry;
  ASSERT_TRUE(std::regex_search(first.err, retry, std::regex("retry at ([0-9T:Z-]+)"))) << first.err;
  auto schedule = box.certagent({"status", "--json"});
  EXPECT_THAT(schedule.out, HasSubstr("\"consecutive_failures\": 1")) << schedule.out;

  auto second = box.certagent({"run", "--once"});
  EXPECT_EQ(second.exit_code, 3) << describe(second);
  EXPECT_THAT(second.err, HasSubstr("front-end: skipped, backing off: retry at " + retry[1].str() +
                                    " (in")) << "the wait the failure set, not a new one";
  EXPECT_THAT(second.err, HasSubstr("after 1 consecutive failure; last error transport: opening the ACME directory"));
  EXPECT_THAT(second.err, Not(HasSubstr("issue failed"))) << "no second attempt at the CA";
  EXPECT_THAT(second.out, HasSubstr("front-end: backing off after 1 failure(s), next attempt"));
}

TEST(EngineCommands, RunNowRetriesABackedOffCertificateOnceTheCauseIsFixedAndClearsTheBackoff) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  point_at_a_dead_ca(box);
  auto failed = box.certagent({"run", "--once"});
  ASSERT_EQ(failed.exit_code, 1) << describe(failed);
  box.write_policy(pool("shared"));  // the operator fixes the cause: the CA's address

  auto waiting = box.certagent({"run", "--once"});
  EXPECT_EQ(waiting.exit_code, 3) << describe(waiting);
  EXPECT_THAT(waiting.err, HasSubstr("skipped, backing off"));

  auto now = box.certagent({"run", "--once", "--now"});
  EXPECT_EQ(now.exit_code, 0) << describe(now);
  EXPECT_THAT(now.err, HasSubstr("front-end: retrying at once (run --now) instead of backing off"));
  EXPECT_THAT(now.err, HasSubstr("1 issued this pass"));
  auto status = box.certagent({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << describe(status);
  EXPECT_THAT(status.out, HasSubstr("\"consecutive_failures\": 0")) << status.out;
  EXPECT_THAT(status.out, HasSubstr("\"retry_at\": null")) << status.out;
  // pebble offers no renewal information (ARI): the order noted so, and the renewal time
  // comes from the lifetime rule.
  EXPECT_THAT(status.out, HasSubstr("\"offered\": false")) << status.out;
  EXPECT_THAT(status.out, HasSubstr("\"renewal_basis\": \"lifetime\"")) << status.out;
  auto text = box.certagent({"status"});
  EXPECT_THAT(text.out, HasSubstr("renewal by")) << text.out;
  EXPECT_THAT(text.out, HasSubstr("the lifetime rule")) << text.out;
  // The back-off is gone for good: a plain pass afterwards has nothing to wait for.
  auto after = box.certagent({"run", "--once"});
  EXPECT_EQ(after.exit_code, 0) << describe(after);
  EXPECT_THAT(after.err, Not(HasSubstr("backing off")));
}

// "2026-12-07T14:50:06Z" as seconds since the epoch; 0 when it is not that.
long long epoch_of(const std::string& text) {
  std::tm tm{};
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(timegm(&tm));
}

// A failure that comes late in the pass (a hook that takes 5 s, then fails) backs off from
// the failure, not from the start of the pass: the retry time is not in the past.
TEST(EngineCommands, TheBackOffCountsFromTheFailureNotFromTheStartOfThePass) {
  EngineSandbox box;
  PoolPolicy policy = pool("shared");
  const std::string hook = (box.dir() / "slow-failing-hook").string();
  std::ofstream(hook) << "#!/bin/sh\nsleep 5\nexit 1\n";
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);
  policy.hooks["Default"] = {hook};
  box.write_policy(policy);
  auto failed = box.certagent({"run", "--once"}, {"CERTAGENT_BACKOFF_INITIAL=1"});
  ASSERT_EQ(failed.exit_code, 1) << describe(failed);
  const auto ended = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()).time_since_epoch().count();
  auto status = box.certagent({"status", "--json"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(status.out, m, std::regex("\"retry_at\": \"([^\"]+)\""))) << status.out;
  // Seconds are whole: the failure is recorded up to a second early, the pass ended up to a
  // second after it. Counted from the start of the pass it would be 5 s earlier.
  EXPECT_GE(epoch_of(m[1].str()), ended - 2) << "retry at " << m[1].str() << "; the failing pass ended at " << ended
                                              << "\n" << failed.err;
}

TEST(EngineCommands, AnInvalidPolicyIsExitTwoWithTheLocation) {
  EngineSandbox box;
  std::ofstream(box.policy_file()) << "{\"ca\": {\"directory\": \"http://plain\"}, \"roles\": []}\n";
  auto r = box.certagent({"run", "--once"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("policy.json:1:"));
}

}  // namespace
}  // namespace certagent::integration

namespace certagent::integration {
namespace {

// Issue 17 item 6: `run --once` ends with a line per certificate on stdout, for people; the log
// stays on stderr.
TEST(EngineCommands, RunOnceEndsWithALinePerCertificateOnStdout) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  auto first = box.certagent({"run", "--once"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  const std::string t = thumbprint_of(box.certs().at("Default")).substr(0, 12);
  EXPECT_THAT(first.out, HasSubstr("front-end: issued — " + t +
                                   " bound to Default, WebServicesInternal, WebServicesExternal (until "));
  EXPECT_EQ(first.out.find("[engine]"), std::string::npos) << "log lines on stdout:\n" << first.out;
  auto second = box.certagent({"run", "--once"});
  EXPECT_THAT(second.out, HasSubstr("front-end: kept — " + t));
}

}  // namespace
}  // namespace certagent::integration
