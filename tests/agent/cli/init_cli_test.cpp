// `certagent init`, run as the built binary: a policy that `policy check` and `plan` accept,
// no overwriting, and a clear error (and nothing written) for a bad flag value.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/cli_runner.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using certagent::testing::run_certagent;

const std::string kFrontEnd =
    "--role front-end-standard --server-fqdn lyncse01.contoso.net --sip-domain contoso.com,fabrikam.com "
    "--meet meet.contoso.com --dialin dialin.contoso.com --web-external lyncweb.contoso.com "
    "--ca-directory https://ca.contoso.net/acme/directory --trust-bundle /etc/certagent/contoso-root.pem "
    "--contact mailto:pki@contoso.com";

class InitCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "certagent-init-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& file) {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Every entry of the directory: init leaves no temporary file behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

TEST_F(InitCli, WritesAPolicyThatPolicyCheckAndPlanAccept) {
  const std::string file = path("policy.json");
  auto r = run_certagent("init " + kFrontEnd + " " + file);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("wrote " + file), std::string::npos) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(entries(), std::vector<std::string>{"policy.json"});

  auto check = run_certagent("policy check " + file);
  EXPECT_EQ(check.code, 0) << check.out;
  EXPECT_NE(check.out.find("valid: 1 role(s), 2 SIP domain(s), 3 purpose(s)"), std::string::npos) << check.out;

  auto plan = run_certagent("plan --json --state-dir " + path("state") + " --policy " + file, false);
  ASSERT_EQ(plan.code, 0) << plan.out;
  const json::value v = json::parse(plan.out);
  const auto& certs = v.at("certificates").as_array();
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0].at("action"), "issue");
  const auto& names = certs[0].at("names").as_array();
  for (const char* want : {"lyncse01.contoso.net", "meet.contoso.com", "dialin.contoso.com", "lyncweb.contoso.com",
                           "lyncdiscover.contoso.com", "lyncdiscoverinternal.fabrikam.com"})
    EXPECT_NE(std::find(names.begin(), names.end(), json::value(want)), names.end()) << want << " in " << plan.out;

  // The generic form an operator edits: the flags' values under the policy's own keys.
  const std::string text = slurp(file);
  EXPECT_NE(text.find("\"trust_bundle\": \"/etc/certagent/contoso-root.pem\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"type\": \"http-01\""), std::string::npos) << text;
}

TEST_F(InitCli, WritesWhereGlobalPolicyPointsAndDnsPersistChallenge) {
  const std::string file = path("rp.json");
  auto r = run_certagent("--policy " + file +
                         " init --role reverse-proxy --web-external webpool01.contoso.com,webpool02.contoso.com "
                         "--sip-domain contoso.com --challenge dns-persist-01 --ca-directory https://ca.example/dir");
  ASSERT_EQ(r.code, 0) << r.out;
  auto check = run_certagent("policy check " + file);
  EXPECT_EQ(check.code, 0) << check.out;
  EXPECT_NE(slurp(file).find("\"type\": \"dns-persist-01\""), std::string::npos);
}

TEST_F(InitCli, RefusesToReplaceAnExistingFile) {
  const std::string file = path("policy.json");
  std::ofstream(file) << "// mine\n";
  auto r = run_certagent("init " + kFrontEnd + " " + file);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(file + " exists; init never replaces a policy"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(file), "// mine\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"policy.json"});

  // A dangling symbolic link is a name in use too.
  fs::create_symlink(path("nowhere.json"), path("link.json"));
  auto link = run_certagent("init " + kFrontEnd + " " + path("link.json"));
  EXPECT_EQ(link.code, 1) << link.out;
  EXPECT_FALSE(fs::exists(path("nowhere.json")));
}

TEST_F(InitCli, ABadFlagValueSaysWhichFlagAndWritesNothing) {
  const std::string file = path("policy.json");
  auto bad_name = run_certagent("init --role director --server-fqdn dir_01.contoso.net "
                                "--ca-directory https://ca.example/dir " + file);
  EXPECT_EQ(bad_name.code, 2) << bad_name.out;
  EXPECT_NE(bad_name.out.find("certagent init: --server-fqdn: roles[0].server_fqdn: DNS name 'dir_01.contoso.net' "
                              "contains '_'"),
            std::string::npos)
      << bad_name.out;
  EXPECT_NE(bad_name.out.find("nothing written"), std::string::npos) << bad_name.out;

  auto http = run_certagent("init --role director --server-fqdn dir01.contoso.net --ca-directory http://ca.example/dir " +
                            file);
  EXPECT_EQ(http.code, 2) << http.out;
  EXPECT_NE(http.out.find("--ca-directory: ca.directory: 'http://ca.example/dir' is not an https:// URL"),
            std::string::npos)
      << http.out;

  auto missing = run_certagent("init --role front-end-enterprise --ca-directory https://ca.example/dir " + file);
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("--server-fqdn: "), std::string::npos) << missing.out;

  // The flag of the value at fault, though the message names another key too.
  auto pool = run_certagent("init --role front-end-enterprise --server-fqdn fe01.contoso.net --pool-fqdn "
                            "fe01.contoso.net --sip-domain contoso.com --ca-directory https://ca.example/dir " + file);
  EXPECT_EQ(pool.code, 2) << pool.out;
  EXPECT_NE(pool.out.find("certagent init: --pool-fqdn: roles[0].pool_fqdn: equals server_fqdn"), std::string::npos)
      << pool.out;

  auto role = run_certagent("init --role edge --ca-directory https://ca.example/dir " + file);
  EXPECT_EQ(role.code, 2) << role.out;
  EXPECT_NE(role.out.find("--role: edge not in {front-end-standard,front-end-enterprise,director,reverse-proxy}"),
            std::string::npos)
      << role.out;

  EXPECT_TRUE(entries().empty());
}

}  // namespace
