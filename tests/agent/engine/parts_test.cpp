// The engine's small parts: listen addresses, the names a purpose needs and
// what a certificate lacks, assign's refusals, request's names, the order
// journal and the persisted back-off.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "agent/cli/assign_check.hpp"
#include "agent/engine/records.hpp"
#include "agent/engine/consumers.hpp"
#include "agent/engine/renewal_decision.hpp"
#include "agent/engine/installed_state.hpp"
#include "agent/engine/solver.hpp"
#include "agent/store/order_journal.hpp"
#include "agent/cli/purpose_names.hpp"
#include "agent/cli/request_names.hpp"
#include "store_support.hpp"
#include "policy/parse.hpp"

namespace certagent::agent {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr const char* kPool = R"({
  "ca": {"directory": "https://ca.example/dir"},
  "sip_domains": ["contoso.com", "fabrikam.com"],
  "roles": [{"role": "front-end-enterprise", "pool_fqdn": "pool01.contoso.net", "server_fqdn": "fe01.contoso.net",
             "web_services": {"internal": "webpool01.contoso.net", "external": "webpool01.contoso.com"},
             "layout": "separate"}],
  "purposes": {"WebServicesExternal": {"combined_pem": "/srv/wse.pem", "group": "ssl-cert", "key_mode": "0640",
                                       "fullchain": "/srv/wse-full.pem",
                                       "hooks": [{"argv": ["/usr/bin/true", "x"], "timeout": "5s"}]}}
})";

policy::Policy pool_policy() {
  auto p = policy::parse_policy(kPool, "pool.json");
  if (!p) throw std::runtime_error(p.error().message);
  return *p;
}

TEST(EngineParts, ParseListenAcceptsThePolicyForms) {
  auto any = parse_listen(":80");
  ASSERT_TRUE(any) << any.error().message;
  EXPECT_EQ(any->address, "0.0.0.0");
  EXPECT_EQ(any->port, 80);
  auto v4 = parse_listen("127.0.0.1:5002");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address, "127.0.0.1");
  EXPECT_EQ(v4->port, 5002);
  auto v6 = parse_listen("[::1]:8080");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->address, "::1");
}

TEST(EngineParts, ParseListenRefusesBadPortsNamingTheAddress) {
  for (const char* bad : {"127.0.0.1", ":0", ":65536", ":http", ":80x"}) {
    auto r = parse_listen(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_THAT(r.error().message, HasSubstr(bad));
  }
}

TEST(EngineParts, RequiredNamesByPurposeFollowTheLyncRules) {
  auto names = required_names_by_purpose(pool_policy());
  EXPECT_THAT(names["WebServicesExternal"], Contains("lyncdiscover.fabrikam.com"));
  EXPECT_THAT(names["WebServicesExternal"], Not(Contains("lyncdiscoverinternal.fabrikam.com")));
  EXPECT_THAT(names["WebServicesInternal"], Contains("lyncdiscoverinternal.contoso.com"));
  EXPECT_THAT(names["Default"], Contains("pool01.contoso.net"));
}

TEST(EngineParts, MissingNamesCompareCaseInsensitivelyAndKeepOrder) {
  EXPECT_THAT(missing_names({"a.example", "B.example", "c.example"}, {"b.EXAMPLE"}),
              ElementsAre("a.example", "c.example"));
  EXPECT_THAT(missing_names({"a.example"}, {"A.example"}), IsEmpty());
}

TEST(EngineParts, SplitListTakesCommasSpacesAndQuotes) {
  EXPECT_THAT(split_list("Default, WebServicesInternal"), ElementsAre("Default", "WebServicesInternal"));
  EXPECT_THAT(split_list("\"a.example,b.example\""), ElementsAre("a.example", "b.example"));
  EXPECT_THAT(split_list(" , "), IsEmpty());
}

StoredVersion version_with(std::vector<std::string> names, std::chrono::sys_seconds not_after) {
  StoredVersion v;
  v.id = "v1";
  v.meta.names = std::move(names);
  v.meta.not_after = not_after;
  return v;
}

TEST(EngineParts, AssignRefusesNamingEachMissingNameTheExpiryAndUnknownPurposes) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto required = required_names_by_purpose(pool_policy());
  auto v = version_with(required["Default"], now - std::chrono::hours(1));
  auto refusals = assign_refusals(v, {"WebServicesExternal", "Nonsense"}, required, now);
  ASSERT_EQ(refusals.size(), 3u);
  EXPECT_THAT(refusals[0], HasSubstr("expired"));
  EXPECT_THAT(refusals[1], HasSubstr("WebServicesExternal lacks"));
  EXPECT_THAT(refusals[1], HasSubstr("lyncdiscover.contoso.com, lyncdiscover.fabrikam.com"));
  EXPECT_THAT(refusals[2], HasSubstr("no purpose \"Nonsense\""));
  EXPECT_THAT(assign_refusals(version_with(required["Default"], now + std::chrono::hours(1)), {"Default"}, required, now),
              IsEmpty());
}

TEST(EngineParts, RequestNamesAllSipDomainsUseThePolicysAutodiscoverNames) {
  auto plan = request_plan(pool_policy(), {"WebServicesExternal"}, std::nullopt);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->certificate_id, "front-end-webservicesexternal") << "the policy's own id for that certificate";
  EXPECT_THAT(plan->names, Contains("lyncdiscover.contoso.com"));
  EXPECT_THAT(plan->names, Contains("webpool01.contoso.com"));
}

TEST(EngineParts, RequestNamesDomainNameReplacesTheAutodiscoverNames) {
  auto plan = request_plan(pool_policy(), {"WebServicesExternal"}, std::vector<std::string>{"LyncDiscover.Contoso.com"});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(plan->names, Contains("lyncdiscover.contoso.com"));
  EXPECT_THAT(plan->names, Not(Contains("lyncdiscover.fabrikam.com")));
  EXPECT_THAT(plan->names, Contains("webpool01.contoso.com"));
}

TEST(EngineParts, RequestNamesRefusesUnknownPurposesAndBadNames) {
  auto none = request_plan(pool_policy(), {"ReverseProxy"}, std::nullopt);
  ASSERT_FALSE(none);
  EXPECT_THAT(none.error().message, HasSubstr("ReverseProxy"));
  auto bad = request_plan(pool_policy(), {"Default"}, std::vector<std::string>{"not a name"});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("--domain-name \"not a name\""));
}

TEST(EngineParts, RequestNamesDomainNameNeedsThePrefixOfARequestedType) {
  // The guide's mistake: the external Autodiscover name on a WebServicesInternal certificate.
  auto wrong = request_plan(pool_policy(), {"WebServicesInternal"}, std::vector<std::string>{"Lyncdiscover.contoso.com"});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::Invalid);
  EXPECT_THAT(wrong.error().message, HasSubstr("you must use an appropriate prefix for the SIP domain FQDN"));
  EXPECT_THAT(wrong.error().message, HasSubstr("lyncdiscoverinternal.contoso.com (WebServicesInternal)"));
  auto apex = request_plan(pool_policy(), {"WebServicesExternal"}, std::vector<std::string>{"contoso.com"});
  ASSERT_FALSE(apex);
  EXPECT_THAT(apex.error().message, HasSubstr("probably meant: lyncdiscover.contoso.com (WebServicesExternal)"));
  auto both = request_plan(pool_policy(), {"Default", "WebServicesInternal", "WebServicesExternal"},
                           std::vector<std::string>{"lyncdiscoverinternal.contoso.com", "lyncdiscover.contoso.com"});
  EXPECT_TRUE(both) << both.error().message;
  auto neither = request_plan(pool_policy(), {"Default"}, std::vector<std::string>{"lyncdiscover.contoso.com"});
  ASSERT_FALSE(neither);
  EXPECT_THAT(neither.error().message, HasSubstr("add one of them to --type"));
}

TEST(EngineParts, ConsumersCarryHooksAndEveryOutputWithItsMode) {
  auto consumers = consumers_from_policy(pool_policy());
  const auto& wse = consumers.at("WebServicesExternal");
  ASSERT_EQ(wse.hooks.size(), 1u);
  EXPECT_THAT(wse.hooks[0].argv, ElementsAre("/usr/bin/true", "x"));
  EXPECT_EQ(wse.hooks[0].timeout, std::chrono::seconds(5));
  ASSERT_EQ(wse.outputs.size(), 2u);
  EXPECT_EQ(wse.outputs[0].path, "/srv/wse.pem");
  EXPECT_EQ(wse.outputs[0].format, OutputFormat::CombinedPem);
  EXPECT_EQ(wse.outputs[0].group, "ssl-cert");
  EXPECT_EQ(wse.outputs[0].mode, 0640u) << "files holding the key take key_mode";
  EXPECT_EQ(wse.outputs[1].path, "/srv/wse-full.pem");
  EXPECT_EQ(wse.outputs[1].format, OutputFormat::Fullchain);
  EXPECT_EQ(wse.outputs[1].mode, 0644u) << "public files take cert_mode";
  EXPECT_EQ(wse.outputs[1].group, "ssl-cert");
}

TEST(EngineParts, OrderJournalRoundTripsPrivatelyAndIsRemoved) {
  testing::TempDir dir;
  auto store = Store::open(dir.path() / "state", OpenOptions{true, {}});
  ASSERT_TRUE(store) << store.error().message;
  OrderJournal j{"front-end", "https://ca.example/order/1", {"a.example", "b.example"}, "KEY PEM"};
  ASSERT_TRUE(write_order_journal(*store, j));
  struct stat st {};
  ASSERT_EQ(::stat(order_journal_path(store->dir(), "front-end").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = read_order_journal(store->dir(), "front-end");
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->order_url, j.order_url);
  EXPECT_EQ((*back)->names, j.names);
  EXPECT_EQ((*back)->key_pem, j.key_pem);
  ASSERT_TRUE(remove_order_journal(*store, "front-end"));
  auto gone = read_order_journal(store->dir(), "front-end");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
}

TEST(EngineParts, AForeignOrderJournalIsAnErrorNotTrusted) {
  testing::TempDir dir;
  auto store = Store::open(dir.path() / "state", OpenOptions{true, {}});
  ASSERT_TRUE(store);
  std::filesystem::create_directories(store->dir() / "orders");
  std::ofstream(order_journal_path(store->dir(), "front-end")) << "{\"format\":1}";
  auto r = read_order_journal(store->dir(), "front-end");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("not an order journal"));
}

TEST(EngineParts, BackoffStatePersistsAcrossLoads) {
  testing::TempDir dir;
  auto store = Store::open(dir.path() / "state", OpenOptions{true, {}});
  ASSERT_TRUE(store);
  auto none = load_backoff(*store, "front-end");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, BackoffState{});
  Rng rng(42);
  const TimePoint now{std::chrono::seconds(1'800'000'000)};
  auto failed = record_failure({}, Error{ErrorKind::Transport, "connection refused"}, now, rng);
  policy::Action action;
  action.certificate.id = "front-end";
  action.certificate.purposes = {"Default"};
  action.kind = policy::ActionKind::Issue;
  action.reason = "nothing is bound";
  ASSERT_TRUE(save_schedule(SharedStore(*store).lock(), action, failed, now));
  auto back = load_backoff(*store, "front-end");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, failed);
  EXPECT_FALSE(attempt_allowed(*back, now));
}

TEST(EngineParts, RenewalPointIsJitteredBeforeTwoThirdsOfTheLifetimeAndKeptAcrossRestarts) {
  testing::TempDir dir;
  auto store = Store::open(dir.path() / "state", OpenOptions{true, {}});
  ASSERT_TRUE(store);
  auto cert = testing::make_cert({"a.example"}, std::chrono::seconds(-60), std::chrono::hours(24 * 90));
  NewVersion v{cert.key_pem, cert.leaf_pem, cert.chain_pem, {}};
  v.meta.certificate_id = "web";
  v.meta.key_type = "ec-p256";
  ASSERT_TRUE(store->add_version(v));
  auto inv = store->inventory();
  ASSERT_TRUE(inv);
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto installed = to_installed(*inv);
  Rng first(1);
  auto selections = precompute_renewal(installed, *inv, policy::Renewal{}, *store, now, first);
  ASSERT_EQ(installed.certificates.size(), 1u);
  const auto& c = installed.certificates[0];
  ASSERT_TRUE(c.renew_at);
  const auto two_thirds = c.not_before + (c.not_after - c.not_before) * 2 / 3;
  EXPECT_LE(*c.renew_at, two_thirds + std::chrono::seconds(1));
  EXPECT_GE(*c.renew_at, two_thirds - std::chrono::hours(24) - std::chrono::seconds(1));
  ASSERT_EQ(selections.count(c.thumbprint), 1u);

  // Saved as the schedule's `selected`, the same point comes back with another random source.
  policy::Action action;
  action.certificate.id = "web";
  action.thumbprint = c.thumbprint;
  ASSERT_TRUE(save_schedule(SharedStore(*store).lock(), action, {}, now, selections.at(c.thumbprint)));
  auto again = to_installed(*inv);
  Rng second(2);
  (void)precompute_renewal(again, *inv, policy::Renewal{}, *store, now, second);
  EXPECT_EQ(again.certificates[0].renew_at, c.renew_at);
}

// A pass reads each schedule record once (issue 26): the previous draw, the back-off and the
// comparison before a write come from that one read; an unchanged decision is not written
// again and keeps its decided_at; a changed one is written, and read back as written.
TEST(EngineParts, APassReadsEachScheduleRecordOnceAndWritesOnlyAChangedDecision) {
  testing::TempDir dir;
  auto store = Store::open(dir.path() / "state", OpenOptions{true, {}});
  ASSERT_TRUE(store);
  const TimePoint t0{std::chrono::seconds(1'800'000'000)};
  Rng rng(7);
  const auto failed = record_failure({}, Error{ErrorKind::Transport, "connection refused"}, t0, rng);
  policy::Action action;
  action.certificate.id = "web";
  action.certificate.purposes = {"Default"};
  action.kind = policy::ActionKind::Keep;
  action.reason = "all bound";
  action.renewal_due = t0 + std::chrono::hours(24 * 60);
  const RenewalChoice choice{t0 + std::chrono::hours(24 * 59), RenewalBasis::Lifetime, std::nullopt};
  SharedStore shared(*store);
  ASSERT_TRUE(save_schedule(shared.lock(), action, failed, t0, choice));
  const auto file = schedule_path(store->dir(), "web");
  struct stat written {};
  ASSERT_EQ(::stat(file.c_str(), &written), 0);

  ScheduleReads reads(*store);
  EXPECT_TRUE(reads.has_record("web"));
  EXPECT_EQ(reads.selected("web"), choice.selected);
  auto backoff = reads.backoff("web");
  ASSERT_TRUE(backoff) << backoff.error().message;
  EXPECT_EQ(*backoff, failed);
  ASSERT_TRUE(save_schedule(reads, shared.lock(), action, failed, t0 + std::chrono::hours(1), choice));  // the same decision
  EXPECT_EQ(reads.files_read(), 1u) << "one read of the record for all four questions";
  struct stat after {};
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, written.st_ino) << "an unchanged decision is not written again";
  EXPECT_EQ(read_schedule(*store, "web").value()->decided_at, t0);

  // Another decision: written, with the new time, and what the pass asks next is what it wrote.
  action.reason = "all bound, renewal moved";
  ASSERT_TRUE(save_schedule(reads, shared.lock(), action, {}, t0 + std::chrono::hours(2), choice));
  auto record = read_schedule(*store, "web");
  ASSERT_TRUE(record && *record);
  EXPECT_EQ((*record)->decided_at, t0 + std::chrono::hours(2));
  EXPECT_EQ((*record)->decision, "keep: all bound, renewal moved");
  EXPECT_EQ(reads.backoff("web").value(), BackoffState{});
  EXPECT_EQ(reads.files_read(), 1u);

  // No record, and a record the agent did not write: read once each, the latter an error.
  EXPECT_FALSE(reads.has_record("none"));
  EXPECT_EQ(reads.backoff("none").value(), BackoffState{});
  std::ofstream(schedule_path(store->dir(), "bad")) << "{not json";
  EXPECT_FALSE(reads.backoff("bad"));
  EXPECT_FALSE(reads.has_record("bad"));
  EXPECT_EQ(reads.files_read(), 3u);
  action.certificate.id = "bad";
  ASSERT_TRUE(save_schedule(reads, shared.lock(), action, {}, t0, choice));  // an unreadable record is replaced
  EXPECT_TRUE(read_schedule(*store, "bad").value().has_value());
}

}  // namespace
}  // namespace certagent::agent
