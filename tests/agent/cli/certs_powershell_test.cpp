// `certagent certs --format powershell`: golden scripts for the shared, separate and mixed
// layouts (tests/agent/cli/golden/*.ps1), the guide's one-type-per-command rule checked on
// its own, and every refusal. CERTAGENT_UPDATE_GOLDEN=1 rewrites the golden files.
#include "agent/cli/certs_powershell.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;

const fs::path kGolden = fs::path(CERTAGENT_SOURCE_DIR) / "tests" / "agent" / "cli" / "golden";

const std::string kA = "49C2502D17B3A1E0F00D4C1A2B3C4D5E6F708192";
const std::string kB = "1EF01C21EF02A1E0F00D4C1A2B3C4D5E6F708193";
const std::string kC = "7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A";

PowerShellPurpose purpose(std::string name, std::string thumb, std::string p12) {
  return PowerShellPurpose{std::move(name), std::move(thumb), 7, "2027-03-07T12:00:00Z",
                           p12.empty() ? std::nullopt : std::optional(p12), "/etc/certagent/p12-password", false};
}

std::string golden(const std::string& name, const std::string& actual) {
  const fs::path file = kGolden / name;
  if (const char* update = std::getenv("CERTAGENT_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    fs::create_directories(kGolden);
    std::ofstream(file) << actual;
  }
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every Set-CsCertificate line: its -Type list and -Thumbprint.
std::vector<std::pair<std::string, std::string>> set_commands(const std::string& script) {
  static const std::regex line(R"(^Set-CsCertificate -Type (\S+) -Thumbprint ([0-9A-F]{40})$)");
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(script);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) out.emplace_back(m[1], m[2]);
    else EXPECT_FALSE(l.starts_with("Set-CsCertificate")) << "a malformed command: " << l;
  }
  return out;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(CertsPowerShell, SharedCertificateIsImportedOnceAndSetWithAllTypesInOneCommand) {
  const std::vector<PowerShellPurpose> in = {purpose("WebServicesExternal", kA, ""),
                                             purpose("Default", kA, "/etc/lync/certs/default.p12"),
                                             purpose("WebServicesInternal", kA, "")};
  auto script = powershell_script(in);
  ASSERT_TRUE(script) << script.error().message;
  EXPECT_EQ(*script, golden("shared.ps1", *script));
  EXPECT_EQ(set_commands(*script),
            (std::vector<std::pair<std::string, std::string>>{{"Default,WebServicesInternal,WebServicesExternal", kA}}));
  EXPECT_EQ(count(*script, "\nImport-CertagentPfx "), 1u);
  EXPECT_NE(script->find("Import-CertagentPfx 'default.p12' '" + kA + "'"), std::string::npos);
  EXPECT_NE(script->find("Read-Host -AsSecureString"), std::string::npos);
  EXPECT_TRUE(script->ends_with("\nGet-CsCertificate\n"));
}

TEST(CertsPowerShell, SeparateCertificatesGetOneCommandPerType) {
  const std::vector<PowerShellPurpose> in = {purpose("Default", kA, "/etc/lync/certs/default.p12"),
                                             purpose("WebServicesInternal", kB, "/etc/lync/certs/internal.p12"),
                                             purpose("WebServicesExternal", kC, "/etc/lync/certs/external.p12")};
  auto script = powershell_script(in);
  ASSERT_TRUE(script) << script.error().message;
  EXPECT_EQ(*script, golden("separate.ps1", *script));
  EXPECT_EQ(set_commands(*script), (std::vector<std::pair<std::string, std::string>>{
                                       {"Default", kA}, {"WebServicesInternal", kB}, {"WebServicesExternal", kC}}));
  EXPECT_EQ(count(*script, "\nImport-CertagentPfx "), 3u);
}

// Default alone, the web services sharing one: the thumbprints differ, so — as the guide says for
// separate certificates — never several types in one command, not even the two that share.
TEST(CertsPowerShell, MixedLayoutSetsEveryTypeOnItsOwnAndImportsEachCertificateOnce) {
  const std::vector<PowerShellPurpose> in = {purpose("Default", kA, "/etc/lync/certs/default.p12"),
                                             purpose("WebServicesInternal", kB, ""),
                                             purpose("WebServicesExternal", kB, "/etc/lync/certs/web.p12"),
                                             purpose("ReverseProxy", kC, "")};
  auto script = powershell_script(in);
  ASSERT_TRUE(script) << script.error().message;
  EXPECT_EQ(*script, golden("mixed.ps1", *script));
  const auto commands = set_commands(*script);
  EXPECT_EQ(commands, (std::vector<std::pair<std::string, std::string>>{
                          {"Default", kA}, {"WebServicesInternal", kB}, {"WebServicesExternal", kB}}));
  for (const auto& [types, thumb] : commands) EXPECT_EQ(types.find(','), std::string::npos) << types;
  EXPECT_EQ(count(*script, "\nImport-CertagentPfx "), 2u);
  EXPECT_NE(script->find("Import-CertagentPfx 'web.p12' '" + kB + "'"), std::string::npos);
  EXPECT_NE(script->find("# Not a Lync certificate type, left alone: ReverseProxy"), std::string::npos);
  EXPECT_EQ(script->find("-Type ReverseProxy"), std::string::npos);
}

TEST(CertsPowerShell, ThePasswordIsNeverInTheScriptAndAnEmptyOneIsNotAskedFor) {
  auto with = powershell_script(std::vector{purpose("Default", kA, "/p/default.p12")});
  ASSERT_TRUE(with);
  EXPECT_EQ(with->find("/etc/certagent/p12-password"), std::string::npos) << "the agent's password file is not named";
  EXPECT_NE(with->find("Import-PfxCertificate -FilePath $path -CertStoreLocation Cert:\\LocalMachine\\My -Password $password"),
            std::string::npos);
  auto empty = purpose("Default", kA, "/p/default.p12");
  empty.password_file.reset();
  empty.empty_password = true;
  auto without = powershell_script(std::vector{empty});
  ASSERT_TRUE(without) << without.error().message;
  EXPECT_EQ(without->find("Read-Host"), std::string::npos);
  EXPECT_EQ(without->find("-Password $password"), std::string::npos);
  EXPECT_EQ(without->find("$password ="), std::string::npos);
}

TEST(CertsPowerShell, AFileNameWithAQuoteIsQuotedForPowerShell) {
  auto script = powershell_script(std::vector{purpose("Default", kA, "/p/it's.p12")});
  ASSERT_TRUE(script);
  EXPECT_NE(script->find("Import-CertagentPfx 'it''s.p12' '" + kA + "'"), std::string::npos) << *script;
}

TEST(CertsPowerShell, WhatKeepsTheScriptFromBeingCompleteIsAClearError) {
  auto unbound = powershell_script(std::vector{purpose("Default", "", "/p/d.p12")});
  ASSERT_FALSE(unbound);
  EXPECT_EQ(unbound.error().message,
            "Default has no certificate bound: run `certagent run --once` (or `certagent request --type Default "
            "--assign`) first");
  auto no_file = powershell_script(std::vector{purpose("Default", kA, ""), purpose("WebServicesInternal", kA, "")});
  ASSERT_FALSE(no_file);
  EXPECT_EQ(no_file.error().message,
            "Default,WebServicesInternal (" + kA +
                "): the policy writes no PKCS#12 file for it; add \"pkcs12\" (and \"pkcs12_password_file\") to "
                "purposes.Default — the script imports that file");
  auto same_name = powershell_script(std::vector{purpose("Default", kA, "/a/x.p12"), purpose("WebServicesInternal", kB, "/b/x.p12")});
  ASSERT_FALSE(same_name);
  EXPECT_NE(same_name.error().message.find("are both named x.p12"), std::string::npos) << same_name.error().message;
  auto other = purpose("WebServicesInternal", kB, "/b/y.p12");
  other.password_file = "/etc/certagent/other";
  auto two_passwords = powershell_script(std::vector{purpose("Default", kA, "/a/x.p12"), other});
  ASSERT_FALSE(two_passwords);
  EXPECT_NE(two_passwords.error().message.find("have different passwords"), std::string::npos);
  auto none = powershell_script(std::vector{purpose("ReverseProxy", kA, "/a/x.p12")});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no purpose is a Lync certificate type"), std::string::npos);
}

}  // namespace
}  // namespace certagent::agent
