// Every file in docs/examples/ is a valid policy that gives the certificates
// the example describes. A new example must be added to the table.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "policy/challenge_select.hpp"
#include "policy/parse.hpp"
#include "policy/required.hpp"

namespace certagent::policy {
namespace {

namespace fs = std::filesystem;

struct Expected {
  std::vector<std::string> ids;     // certificate ids, in order
  std::vector<size_t> name_counts;  // names per certificate
  std::string first_name;           // of the first certificate
};

const std::map<std::string, Expected>& expectations() {
  static const std::map<std::string, Expected> table = {
      {"standard-edition-shared.json", {{"front-end"}, {7}, "lyncse01.contoso.net"}},
      {"enterprise-pool-separate.json",
       {{"front-end-default", "front-end-webservicesinternal", "front-end-webservicesexternal"}, {2, 10, 8},
        "pool01.contoso.net"}},
      {"director.json", {{"director"}, {8}, "dirpool.contoso.net"}},
      {"reverse-proxy.json", {{"reverse-proxy"}, {6}, "webpool01.contoso.com"}},
      {"explicit-domain-list.json", {{"front-end"}, {7}, "lyncse01.contoso.net"}},
      {"generic-service.json", {{"mail-smtp", "mail-imap", "web"}, {4, 2, 6}, "mail.example.org"}},
      {"front-end-outputs.json", {{"front-end"}, {6}, "lyncse01.contoso.net"}},
      {"dns01-rfc2136.json", {{"front-end"}, {7}, "lyncse01.contoso.net"}},
      {"challenge-per-name.json", {{"front-end"}, {7}, "lyncse01.contoso.net"}},
      {"starter.json", {{"front-end"}, {6}, "lyncse01.contoso.net"}},
  };
  return table;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The shipped unit runs certagent as an unprivileged user with NoNewPrivileges=yes: a hook
// cannot reload a service that runs as root (systemctl is refused by polkit, sudo and pkexec
// by NoNewPrivileges, nginx -s / kill cannot signal a root process). Services are reloaded
// with "reload_units" / "restart_units" (docs/operations.md, "Reloading consumers").
TEST(Examples, NoExampleHookNeedsPrivilegesTheShippedServiceLacks) {
  const std::vector<std::string> privileged = {"systemctl", "service", "sudo", "pkexec", "su", "nginx", "kill",
                                               "haproxy", "apachectl", "apache2ctl", "invoke-rc.d"};
  const fs::path dir = fs::path(CERTAGENT_SOURCE_DIR) / "docs" / "examples";
  size_t units = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    auto policy = parse_policy(slurp(entry.path()), entry.path().filename().string());
    ASSERT_TRUE(policy) << policy.error().message;
    for (const auto& [purpose, out] : policy->outputs) {
      for (const auto& hook : out.hooks) {
        const std::string program = fs::path(hook.argv.front()).filename().string();
        EXPECT_EQ(std::count(privileged.begin(), privileged.end(), program), 0)
            << entry.path().filename() << ", purpose " << purpose << ": hook " << hook.argv.front()
            << " needs privileges the certagent user does not have; use \"reload_units\"";
      }
      units += out.reload_units.size() + out.restart_units.size();
    }
  }
  EXPECT_GE(units, 4u) << "the examples show the reload of nginx, HAProxy and the Lync web proxy";
}

TEST(Examples, TheRfc2136ExampleUpdatesThePrimaryWithTheKeyFile) {
  auto policy = parse_policy(slurp(fs::path(CERTAGENT_SOURCE_DIR) / "docs/examples/dns01-rfc2136.json"), "r");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->challenges.front().type, Challenge::Type::Dns01);
  ASSERT_TRUE(policy->challenges.front().rfc2136);
  EXPECT_EQ(policy->challenges.front().rfc2136->server, "192.0.2.53:53");
  EXPECT_EQ(policy->challenges.front().rfc2136->key_file, "/etc/certagent/acme-update.key");
  EXPECT_EQ(policy->challenges.front().rfc2136->propagation_timeout, std::chrono::minutes(2));
}

TEST(Examples, TheChallengePerNameExampleSendsInternalNamesToDns01) {
  auto policy = parse_policy(slurp(fs::path(CERTAGENT_SOURCE_DIR) / "docs/examples/challenge-per-name.json"), "c");
  ASSERT_TRUE(policy) << policy.error().message;
  ASSERT_EQ(policy->challenges.size(), 2u);
  const auto certs = required_certificates(*policy);
  ASSERT_EQ(certs.size(), 1u);
  std::map<std::string, Challenge::Type> by_name;
  for (const auto& n : certs[0].names) by_name[n.name] = challenge_for(policy->challenges, n.name)->type;
  for (const char* internal : {"lyncse01.contoso.net", "lyncdiscoverinternal.contoso.com", "admin.contoso.com"})
    EXPECT_EQ(by_name.at(internal), Challenge::Type::Dns01) << internal;
  for (const char* external : {"lyncdiscover.contoso.com", "meet.contoso.com", "dialin.contoso.com", "lyncweb.contoso.com"})
    EXPECT_EQ(by_name.at(external), Challenge::Type::Http01) << external;
}

TEST(Examples, EveryExampleParsesAndGivesItsCertificates) {
  const fs::path dir = fs::path(CERTAGENT_SOURCE_DIR) / "docs" / "examples";
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const std::string file = entry.path().filename().string();
    ++seen;
    auto it = expectations().find(file);
    ASSERT_NE(it, expectations().end()) << file << " is not in the examples table";
    auto policy = parse_policy(slurp(entry.path()), file);
    ASSERT_TRUE(policy) << policy.error().message;
    auto certs = required_certificates(*policy);
    std::vector<std::string> ids;
    std::vector<size_t> counts;
    for (const auto& c : certs) ids.push_back(c.id), counts.push_back(c.names.size());
    EXPECT_EQ(ids, it->second.ids) << file;
    EXPECT_EQ(counts, it->second.name_counts) << file;
    ASSERT_FALSE(certs.empty());
    EXPECT_EQ(certs.front().names.front().name, it->second.first_name) << file;
  }
  EXPECT_EQ(seen, expectations().size());
}

TEST(Examples, TheStandardEditionExampleCarriesTheGuidesNames) {
  auto policy = parse_policy(slurp(fs::path(CERTAGENT_SOURCE_DIR) / "docs/examples/standard-edition-shared.json"), "se");
  ASSERT_TRUE(policy) << policy.error().message;
  std::vector<std::string> names;
  const auto certs = required_certificates(*policy);
  for (const auto& n : certs.front().names) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lyncse01.contoso.net", "meet.contoso.com", "dialin.contoso.com",
                                             "admin.contoso.com", "lyncdiscoverinternal.contoso.com",
                                             "lyncweb.contoso.com", "lyncdiscover.contoso.com"}));
  ASSERT_TRUE(policy->outputs.contains("Default"));
  const auto& out = policy->outputs.at("Default");
  EXPECT_EQ(out.pkcs12, "/etc/certagent/out/lync-default.p12");
  ASSERT_EQ(out.hooks.size(), 1u);
  EXPECT_EQ(out.hooks[0].timeout, std::chrono::seconds(120));
  EXPECT_EQ(policy->ca.trust_bundle, "/etc/certagent/contoso-root.pem");
}

TEST(Examples, TheEnterpriseExampleReadsCaKeysAndRenewal) {
  auto policy = parse_policy(slurp(fs::path(CERTAGENT_SOURCE_DIR) / "docs/examples/enterprise-pool-separate.json"), "e");
  ASSERT_TRUE(policy) << policy.error().message;
  ASSERT_TRUE(policy->ca.eab);
  EXPECT_EQ(policy->ca.eab->mac_key_file, "/etc/certagent/eab-mac.key");
  ASSERT_TRUE(policy->ca.profile);
  EXPECT_EQ(policy->ca.profile->name, "tlsserver");
  EXPECT_EQ(policy->key, KeyType::Rsa2048);
  EXPECT_EQ(policy->renewal.mode, Renewal::Mode::BeforeExpiry);
  EXPECT_EQ(policy->renewal.before_expiry, std::chrono::seconds(30 * 86400));
  EXPECT_EQ(policy->outputs.at("WebServicesExternal").key_mode, 0640u);
}

TEST(Examples, CaConcurrencyIsReadAndUnsetLeavesTheEngineDefault) {
  const std::string roles = R"(, "roles": [{"role": "custom", "id": "w", "names": {"https": ["a.example"]}}]})";
  auto set = parse_policy(R"({"ca": {"directory": "https://c.example/d", "concurrency": 16})" + roles, "p");
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->ca.concurrency, 16);
  auto unset = parse_policy(R"({"ca": {"directory": "https://c.example/d"})" + roles, "p");
  ASSERT_TRUE(unset) << unset.error().message;
  EXPECT_FALSE(unset->ca.concurrency);
}

}  // namespace
}  // namespace certagent::policy
