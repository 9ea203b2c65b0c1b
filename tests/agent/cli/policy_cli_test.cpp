// `certagent plan` and `certagent policy ...`, run as the built binary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/cli_runner.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using certagent::testing::run_certagent;

std::string example(const std::string& name) {
  return (fs::path(CERTAGENT_SOURCE_DIR) / "docs" / "examples" / name).string();
}

class PolicyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "certagent-policy-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(PolicyCli, PlanJsonListsEveryCertificateAsIssueWhenNothingIsStored) {
  auto r = run_certagent("plan --json --state-dir " + (dir_ / "state").string() + " --policy " +
               example("enterprise-pool-separate.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  json::value v = json::parse(r.out);
  const auto& certs = v.at("certificates").as_array();
  ASSERT_EQ(certs.size(), 3u);
  EXPECT_EQ(certs[0].at("id"), "front-end-default");
  EXPECT_EQ(certs[0].at("purposes"), json::array({"Default"}));
  EXPECT_EQ(certs[0].at("names"), json::array({"pool01.contoso.net", "fe01.contoso.net"}));
  for (const auto& c : certs) {
    EXPECT_EQ(c.at("action"), "issue");
    EXPECT_TRUE(c.at("reason").as_string().starts_with("nothing is bound to"));
    EXPECT_TRUE(c.at("missing").as_array().empty());
    EXPECT_TRUE(c.at("extra").as_array().empty());
  }
  EXPECT_EQ(certs[1].at("rules").at("lyncdiscoverinternal.fabrikam.com"), json::array({"autodiscover-internal"}));
}

TEST_F(PolicyCli, PlanTableAndVerboseRules) {
  const std::string state = " --state-dir " + (dir_ / "state").string();
  auto r = run_certagent("--policy " + example("standard-edition-shared.json") + state + " plan");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("CERTIFICATE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("front-end    issue"), std::string::npos) << r.out;
  auto v = run_certagent("plan -v --policy " + example("standard-edition-shared.json") + state);
  ASSERT_EQ(v.code, 0) << v.out;
  EXPECT_NE(v.out.find("lyncse01.contoso.net"), std::string::npos);
  EXPECT_NE(v.out.find("pool, server, web-services"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("Server name that the certificate is assigned to"), std::string::npos) << v.out;
}

TEST_F(PolicyCli, PlanRefusesAnInvalidPolicyWithItsLocation) {
  auto file = write("bad.json", "{\"ca\": {\"directory\": \"https://ca.example/d\"},\n \"roles\": 7}\n");
  auto r = run_certagent("plan --policy " + file);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, file + ":2:11: roles: expected an array [...], found a number\n");
}

TEST_F(PolicyCli, CheckAcceptsEveryExample) {
  for (const char* name : {"standard-edition-shared.json", "enterprise-pool-separate.json", "director.json",
                           "reverse-proxy.json", "explicit-domain-list.json", "generic-service.json"}) {
    auto r = run_certagent("policy check " + example(name));
    EXPECT_EQ(r.code, 0) << name << ": " << r.out;
    EXPECT_NE(r.out.find(": valid: "), std::string::npos) << r.out;
  }
}

TEST_F(PolicyCli, CheckPrintsFileLineColumnAndExits2) {
  struct Case { std::string text; std::string want; };
  const std::vector<Case> cases = {
      {"{\"ca\": {\"directory\": \"https://ca.example/d\"},\n \"sip_domains\": [\"contoso.com\", \"bücher.example\"],\n"
       " \"roles\": [{\"role\": \"front-end-standard\", \"server_fqdn\": \"se.contoso.com\"}]}\n",
       ":2:33: sip_domains[1]: DNS name "},
      {"{\"ca\": {\"directory\": \"https://ca.example/d\"}\n \"roles\": []}", ":2:2: syntax error"},
      {"{\"ca\": {\"directory\": \"https://ca.example/d\", \"contact\": []}}", ":1:46: ca.contact: unknown key 'contact'"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto file = write("p" + std::to_string(i) + ".json", cases[i].text);
    auto r = run_certagent("policy check " + file);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_EQ(r.out.rfind(file + cases[i].want, 0), 0u) << r.out;
  }
  auto idn = run_certagent("policy check " + dir_.string() + "/p0.json");
  EXPECT_NE(idn.out.find("'xn--bcher-kva.example'"), std::string::npos) << idn.out;
  // Upper case is mapped first (UTS #46): the hand-written punycode suggested xn--bcher-2pa.
  auto upper = write("upper.json", "{\"ca\": {\"directory\": \"https://ca.example/d\"},\n \"sip_domains\": [\"BÜCHER.example\"],\n"
                                   " \"roles\": [{\"role\": \"front-end-standard\", \"server_fqdn\": \"se.contoso.com\"}]}\n");
  auto up = run_certagent("policy check " + upper);
  EXPECT_EQ(up.code, 2) << up.out;
  EXPECT_NE(up.out.find("here: 'xn--bcher-kva.example' (libidn2"), std::string::npos) << up.out;
  EXPECT_EQ(up.out.find("confirms"), std::string::npos) << up.out;
}

TEST_F(PolicyCli, CheckRefusesDevicesFifosHugeAndMissingFiles) {
  fs::create_symlink("/dev/zero", dir_ / "zero.json");
  auto zero = run_certagent("policy check " + (dir_ / "zero.json").string());
  EXPECT_EQ(zero.code, 2);
  EXPECT_NE(zero.out.find("it is a character device; a policy is a regular file"), std::string::npos) << zero.out;

  ASSERT_EQ(::mkfifo((dir_ / "fifo.json").c_str(), 0600), 0);
  auto fifo = run_certagent("policy check " + (dir_ / "fifo.json").string());
  EXPECT_EQ(fifo.code, 2);
  EXPECT_NE(fifo.out.find("it is a FIFO"), std::string::npos) << fifo.out;

  auto big = write("big.json", "{" + std::string(1 << 20, ' ') + "}");
  auto huge = run_certagent("policy check " + big);
  EXPECT_EQ(huge.code, 2);
  EXPECT_NE(huge.out.find("a policy is at most 1048576 bytes"), std::string::npos) << huge.out;

  auto missing = run_certagent("policy check " + (dir_ / "nope.json").string());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.out.find("nope.json: cannot read the policy: there is no such file. Start from an example"),
            std::string::npos)
      << missing.out;
  EXPECT_NE(missing.out.find("docs/examples"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("certagent policy check " + (dir_ / "nope.json").string()), std::string::npos)
      << missing.out;
  EXPECT_NE(missing.out.find("`certagent init --role ROLE --ca-directory URL"), std::string::npos) << missing.out;
}

TEST_F(PolicyCli, ShowPresetsPrintsThePolicyForm) {
  auto r = run_certagent("policy show-presets");
  ASSERT_EQ(r.code, 0) << r.out;
  json::parse_options opt;
  opt.allow_comments = true;
  opt.allow_trailing_commas = true;
  json::value v = json::parse(r.out, {}, opt);
  EXPECT_TRUE(v.at("roles").as_object().contains("reverse-proxy"));
  EXPECT_NE(r.out.find("lyncdiscover.{autodiscover_domains}"), std::string::npos);
}

}  // namespace
