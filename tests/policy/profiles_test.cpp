// ACME profiles in the policy: the CA's default, a role's, a purpose's; each keeps where it is
// written (the engine's error when the CA does not offer it points there), and a certificate
// several purposes may share has one profile.
#include <gtest/gtest.h>

#include "policy/parse.hpp"
#include "policy/plan.hpp"
#include "policy/required.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

using test::location_of;

std::string custom(std::string_view ca_extra, std::string_view role_extra, std::string_view layout,
                   std::string_view purposes = "") {
  return std::string("{\n\"ca\": {\"directory\": \"https://ca.example.org/dir\"") + std::string(ca_extra) +
         "},\n\"roles\": [{\"role\": \"custom\", \"id\": \"web\", \"layout\": \"" + std::string(layout) + "\"" +
         std::string(role_extra) +
         ",\n  \"names\": {\"https\": [\"www.example.org\"], \"smtp\": [\"mail.example.org\"]}}]" +
         (purposes.empty() ? std::string() : ",\n\"purposes\": " + std::string(purposes)) + "\n}\n";
}

const RequiredCertificate& cert(const std::vector<RequiredCertificate>& all, std::string_view id) {
  for (const auto& c : all)
    if (c.id == id) return c;
  ADD_FAILURE() << "no certificate " << id;
  return all.front();
}

TEST(Profiles, TheCasProfileIsEveryCertificatesAndKeepsItsPlace) {
  const std::string text = custom(R"(, "profile": "tlsserver")", "", "separate");
  auto p = parse_policy(text, "p.json");
  ASSERT_TRUE(p) << p.error().message;
  auto required = required_certificates(*p);
  ASSERT_EQ(required.size(), 2u);
  for (const auto& c : required) {
    ASSERT_TRUE(c.profile) << c.id;
    EXPECT_EQ(c.profile->name, "tlsserver");
    EXPECT_EQ(c.profile->at, location_of("p.json", text, "\"tlsserver\"") + "ca.profile");
  }
}

TEST(Profiles, APurposeOverridesTheRoleWhichOverridesTheCa) {
  const std::string text = custom(R"(, "profile": "classic")", R"(, "profile": "tlsserver")", "separate",
                                  R"({"smtp": {"profile": "shortlived"}})");
  auto p = parse_policy(text, "p.json");
  ASSERT_TRUE(p) << p.error().message;
  auto required = required_certificates(*p);
  ASSERT_EQ(required.size(), 2u);
  EXPECT_EQ(cert(required, "web-https").profile->name, "tlsserver");
  EXPECT_EQ(cert(required, "web-https").profile->at, location_of("p.json", text, "\"tlsserver\"") + "roles[0].profile");
  EXPECT_EQ(cert(required, "web-smtp").profile->name, "shortlived");
  EXPECT_EQ(cert(required, "web-smtp").profile->at,
            location_of("p.json", text, "\"shortlived\"") + "purposes.smtp.profile");
}

TEST(Profiles, NoProfileAnywhereOrdersWithoutOne) {
  auto p = parse_policy(custom("", "", "shared"), "p.json");
  ASSERT_TRUE(p) << p.error().message;
  auto required = required_certificates(*p);
  ASSERT_EQ(required.size(), 1u);
  EXPECT_FALSE(required.front().profile);
}

TEST(Profiles, PurposesThatMayShareACertificateMustAgree) {
  for (const char* layout : {"shared", "auto"}) {
    const std::string text = custom("", R"(, "profile": "tlsserver")", layout, R"({"smtp": {"profile": "shortlived"}})");
    auto p = parse_policy(text, "p.json");
    ASSERT_FALSE(p) << layout;
    EXPECT_EQ(p.error().message.rfind(location_of("p.json", text, "\"shortlived\"") + "purposes.smtp.profile: ", 0), 0u)
        << p.error().message;
    EXPECT_NE(p.error().message.find("purposes https (profile 'tlsserver') and smtp (profile 'shortlived') of role "
                                     "'web' may share one certificate"),
              std::string::npos)
        << p.error().message;
    EXPECT_NE(p.error().message.find("\"layout\": \"separate\""), std::string::npos) << p.error().message;
  }
  EXPECT_TRUE(parse_policy(custom("", "", "shared", R"({"smtp": {"profile": "a"}, "https": {"profile": "a"}})"), "p"));
}

TEST(Profiles, ANameThatIsNoTokenIsRefusedWhereItIsWritten) {
  for (const std::string bad : {R"("")", R"("two words")", "7"}) {
    const std::string text = custom("", R"(, "profile": )" + bad, "separate");
    auto p = parse_policy(text, "p.json");
    ASSERT_FALSE(p) << bad;
    const std::string at = location_of("p.json", text, "\"profile\": " + bad);  // then 11 columns on
    const std::string column = std::to_string(std::stoi(at.substr(at.rfind(':', at.size() - 3) + 1)) + 11);
    EXPECT_EQ(p.error().message.rfind("p.json:3:" + column + ": roles[0].profile: ", 0), 0u) << p.error().message;
  }
}

// The stored certificate's profile is part of what fits: a changed profile reissues, an unchanged
// one is kept (and renewed under it).
TEST(Profiles, AChangedProfileReissuesAnUnchangedOneKeeps) {
  const TimePoint now = TimePoint{} + std::chrono::hours(24 * 1000);
  RequiredCertificate req;
  req.id = req.role = "web";
  req.purposes = {"https"};
  req.names = {{"www.example.org", {"t"}}};
  req.profile = ProfileChoice{"tlsserver", "p:1:1: ca.profile"};
  InstalledCertificate c{"AA", {"www.example.org"}, now - std::chrono::hours(24), now + std::chrono::hours(24 * 40),
                         KeyType::EcP256, std::nullopt, "tlsserver"};
  Installed in;
  in.bindings["https"] = "AA";
  in.certificates.push_back(c);
  auto kept = plan({req}, in, now).front();
  EXPECT_EQ(kept.kind, ActionKind::Keep) << kept.reason;
  req.profile->name = "shortlived";
  auto changed = plan({req}, in, now).front();
  EXPECT_EQ(changed.kind, ActionKind::Reissue);
  EXPECT_EQ(changed.reason, "certificate AA was ordered under profile 'tlsserver', the policy wants profile 'shortlived'");
  req.profile.reset();
  EXPECT_EQ(plan({req}, in, now).front().reason,
            "certificate AA was ordered under profile 'tlsserver', the policy wants no profile");
}

}  // namespace
}  // namespace certagent::policy
