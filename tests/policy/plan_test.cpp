#include <gtest/gtest.h>

#include "policy/plan.hpp"
#include "policy/required.hpp"

namespace certagent::policy {
namespace {

using Names = std::vector<std::string>;
using std::chrono::hours;
constexpr auto kDay = hours(24);
const TimePoint kNow = TimePoint{} + 1000 * kDay;

RequiredCertificate shared_cert() {
  RequiredCertificate c;
  c.id = "front-end";
  c.role = "front-end";
  c.purposes = {"Default", "WebServicesInternal", "WebServicesExternal"};
  for (const char* n : {"pool01.contoso.net", "fe01.contoso.net", "lyncdiscover.contoso.com"})
    c.names.push_back({n, {"rule"}});
  return c;
}

InstalledCertificate cert(std::string thumb, Names names, TimePoint issued, KeyType key = KeyType::EcP256) {
  return {std::move(thumb), std::move(names), issued, issued + 90 * kDay, key, std::nullopt, ""};
}

const Names kAll = {"pool01.contoso.net", "fe01.contoso.net", "lyncdiscover.contoso.com"};

Bindings all_to(const std::string& thumb) {
  return {{"Default", thumb}, {"WebServicesInternal", thumb}, {"WebServicesExternal", thumb}};
}

Action one(const Installed& in, RequiredCertificate req = shared_cert()) {
  auto actions = plan({req}, in, kNow);
  EXPECT_EQ(actions.size(), 1u);
  return actions.front();
}

TEST(Plan, IssueWhenNothingIsBound) {
  auto a = one({});
  EXPECT_EQ(a.kind, ActionKind::Issue);
  EXPECT_EQ(a.reason, "nothing is bound to Default, WebServicesInternal, WebServicesExternal");
  EXPECT_TRUE(a.missing.empty());
}

TEST(Plan, IssueWhenTheBoundCertificateIsNotInTheStore) {
  auto a = one({all_to("0123456789abcdef"), {}});
  EXPECT_EQ(a.kind, ActionKind::Issue);
  EXPECT_NE(a.reason.find("0123456789ab is not in the store"), std::string::npos) << a.reason;
}

TEST(Plan, KeepWhenEveryPurposeHoldsACurrentCompleteCertificate) {
  auto a = one({all_to("AA"), {cert("AA", {"LYNCDISCOVER.contoso.com", "fe01.contoso.net", "pool01.contoso.net"}, kNow - 10 * kDay)}});
  EXPECT_EQ(a.kind, ActionKind::Keep) << a.reason;  // order of names does not matter
  EXPECT_EQ(a.thumbprint, "AA");
  EXPECT_EQ(a.renewal_due, kNow + 50 * kDay);
}

TEST(Plan, RenewWhenDueOrExpired) {
  auto due = one({all_to("AA"), {cert("AA", kAll, kNow - 61 * kDay)}});
  EXPECT_EQ(due.kind, ActionKind::Renew);
  EXPECT_NE(due.reason.find("due for renewal since"), std::string::npos) << due.reason;
  auto expired = one({all_to("AA"), {cert("AA", kAll, kNow - 100 * kDay)}});
  EXPECT_EQ(expired.kind, ActionKind::Renew);
  EXPECT_NE(expired.reason.find("expired on"), std::string::npos) << expired.reason;
}

TEST(Plan, RenewUsesTheAgentsPrecomputedTime) {
  InstalledCertificate c = cert("AA", kAll, kNow - 10 * kDay);
  c.renew_at = kNow - hours(1);  // e.g. the CA's ARI window opened
  EXPECT_EQ(one({all_to("AA"), {c}}).kind, ActionKind::Renew);
}

TEST(Plan, ReissueListsMissingAndExtraNames) {
  auto a = one({all_to("AA"), {cert("AA", {"pool01.contoso.net", "fe01.contoso.net", "old.contoso.com"}, kNow - kDay)}});
  EXPECT_EQ(a.kind, ActionKind::Reissue);
  EXPECT_EQ(a.missing, Names{"lyncdiscover.contoso.com"});
  EXPECT_EQ(a.extra, Names{"old.contoso.com"});
  EXPECT_EQ(a.reason, "1 required name(s) missing; 1 name(s) no longer wanted");
}

TEST(Plan, ReissueForTheWrongKeyType) {
  auto a = one({all_to("AA"), {cert("AA", kAll, kNow - kDay, KeyType::Rsa2048)}});
  EXPECT_EQ(a.kind, ActionKind::Reissue);
  EXPECT_TRUE(a.missing.empty());
  EXPECT_NE(a.reason.find("has a rsa-2048 key, the policy wants ec-p256"), std::string::npos) << a.reason;
}

TEST(Plan, ReissueWhenASharedPolicyMeetsSplitBindings) {
  Installed in{{{"Default", "AA"}, {"WebServicesInternal", "BB"}, {"WebServicesExternal", "BB"}},
               {cert("AA", {"pool01.contoso.net", "fe01.contoso.net"}, kNow - kDay),
                cert("BB", {"lyncdiscover.contoso.com"}, kNow - kDay)}};
  auto a = one(in);
  EXPECT_EQ(a.kind, ActionKind::Reissue);
  EXPECT_TRUE(a.missing.empty());
  EXPECT_NE(a.reason.find("bound to 2 different certificates and the policy says shared"), std::string::npos) << a.reason;
}

TEST(Plan, RebindToAStoredCertificateThatAlreadyFits) {
  Installed in{{{"Default", "OLD"}, {"WebServicesInternal", "NEW"}},
               {cert("OLD", {"pool01.contoso.net"}, kNow - kDay), cert("NEW", kAll, kNow - kDay)}};
  auto a = one(in);
  EXPECT_EQ(a.kind, ActionKind::Rebind) << a.reason;
  EXPECT_EQ(a.thumbprint, "NEW");
  EXPECT_EQ(a.rebind, (Names{"Default", "WebServicesExternal"}));
}

// The renewal was stored, its binding rolled back (a consumer's hook failed): the next pass binds
// that successor instead of ordering another.
TEST(Plan, ADueCertificateWhoseSuccessorIsStoredIsReboundNotRenewed) {
  Installed in{all_to("OLD"), {cert("OLD", kAll, kNow - 61 * kDay), cert("NEW", kAll, kNow - hours(1))}};
  auto a = one(in);
  EXPECT_EQ(a.kind, ActionKind::Rebind) << a.reason;
  EXPECT_EQ(a.thumbprint, "NEW");
  EXPECT_EQ(a.rebind, (Names{"Default", "WebServicesInternal", "WebServicesExternal"}));
  EXPECT_NE(a.reason.find("certificate OLD is due for renewal since"), std::string::npos) << a.reason;
  EXPECT_NE(a.reason.find("; stored certificate NEW already carries exactly the 3 names; bind Default, "
                          "WebServicesInternal, WebServicesExternal to it"),
            std::string::npos)
      << a.reason;
  // A successor that is itself due, or that lacks a name, is no reason to skip the renewal.
  Installed stale{all_to("OLD"), {cert("OLD", kAll, kNow - 61 * kDay), cert("NEW", kAll, kNow - 62 * kDay)}};
  EXPECT_EQ(one(stale).kind, ActionKind::Renew);
  Installed short_of{all_to("OLD"), {cert("OLD", kAll, kNow - 61 * kDay), cert("NEW", {"pool01.contoso.net"}, kNow)}};
  EXPECT_EQ(one(short_of).kind, ActionKind::Renew);
  // Not due: kept, whatever else is stored.
  Installed kept{all_to("OLD"), {cert("OLD", kAll, kNow - 10 * kDay), cert("NEW", kAll, kNow - hours(1))}};
  EXPECT_EQ(one(kept).kind, ActionKind::Keep);
}

TEST(Plan, NoRebindToACertificateThatIsDue) {
  Installed in{{}, {cert("NEW", kAll, kNow - 70 * kDay)}};
  EXPECT_EQ(one(in).kind, ActionKind::Issue);
}

TEST(Plan, SeparateCertificatesAreJudgedOneByOne) {
  RequiredCertificate def, wsi;
  def.id = "fe-default", def.purposes = {"Default"}, def.names = {{"pool01.contoso.net", {}}};
  wsi.id = "fe-wsi", wsi.purposes = {"WebServicesInternal"}, wsi.names = {{"lyncdiscoverinternal.contoso.com", {}}};
  // Today one shared certificate serves both: each separate certificate must be
  // issued anew (its names differ), never collapsed back onto the shared one.
  Installed in{{{"Default", "AA"}, {"WebServicesInternal", "AA"}},
               {cert("AA", {"pool01.contoso.net", "lyncdiscoverinternal.contoso.com"}, kNow - kDay)}};
  auto actions = plan({def, wsi}, in, kNow);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, ActionKind::Reissue);
  EXPECT_EQ(actions[0].extra, Names{"lyncdiscoverinternal.contoso.com"});
  EXPECT_EQ(actions[1].kind, ActionKind::Reissue);
  EXPECT_EQ(actions[1].extra, Names{"pool01.contoso.net"});
}

TEST(Plan, PartlyBoundAndDueIsRenewedForEveryPurpose) {
  Installed in{{{"Default", "AA"}}, {cert("AA", kAll, kNow - 61 * kDay)}};
  auto a = one(in);
  EXPECT_EQ(a.kind, ActionKind::Renew);
  EXPECT_NE(a.reason.find("WebServicesInternal, WebServicesExternal not bound to it yet"), std::string::npos) << a.reason;
}

// plan_each: the certificates required_certificates makes, in its order, each decided as plan
// over them decides it and handed over as it is decided.
TEST(Plan, EachRequiredCertificateOfAPolicyIsDecidedInTurnAndHandedOver) {
  Policy p;
  Role shared;
  shared.id = "front-end";
  shared.kind = "custom";
  shared.layout = Layout::Shared;
  shared.purposes = {{"Default", {{"pool01.contoso.net", {"r"}}}}, {"WebServicesInternal", {{"fe01.contoso.net", {"r"}}}}};
  Role separate;
  separate.id = "fleet";
  separate.kind = "custom";
  separate.layout = Layout::Separate;
  separate.purposes = {{"a", {{"a.example", {"r"}}}}, {"b", {{"b.example", {"r"}}}}, {"c", {}}};
  p.roles = {shared, separate};
  const Installed in{{{"a", "AA"}}, {cert("AA", {"a.example"}, kNow - 10 * kDay)}};

  const auto want = plan(required_certificates(p, in.bindings), in, kNow);
  ASSERT_EQ(want.size(), 3u) << "a purpose that needs no names gets no certificate of its own";
  EXPECT_EQ(count_required_certificates(p, in.bindings), want.size());
  std::vector<std::string> handed;
  std::vector<Action> got;
  plan_each(p, in, kNow, [&](Action&& a) {
    handed.push_back(a.certificate.id);
    got.push_back(std::move(a));
  });
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(handed, (Names{"front-end", "fleet-a", "fleet-b"}));
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].certificate.id, want[i].certificate.id);
    EXPECT_EQ(got[i].certificate.purposes, want[i].certificate.purposes);
    EXPECT_EQ(got[i].kind, want[i].kind);
    EXPECT_EQ(got[i].reason, want[i].reason);
    EXPECT_EQ(got[i].thumbprint, want[i].thumbprint);
    EXPECT_EQ(got[i].renewal_due, want[i].renewal_due);
    ASSERT_EQ(got[i].certificate.names.size(), want[i].certificate.names.size());
    for (std::size_t n = 0; n < got[i].certificate.names.size(); ++n)
      EXPECT_EQ(got[i].certificate.names[n].name, want[i].certificate.names[n].name);
  }
  EXPECT_EQ(got[1].kind, ActionKind::Keep);
  EXPECT_EQ(got[2].kind, ActionKind::Issue);
}

}  // namespace
}  // namespace certagent::policy
