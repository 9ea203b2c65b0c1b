// `certagent acme issue` against the fixture's pebble: files written, key 0600,
// timing and request count with -v, clear failures.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "acme_flow.hpp"
#include "protocol/x509/certificate.hpp"
#include "support/cli_runner.hpp"

namespace certagent::integration {
namespace {
namespace fs = std::filesystem;

using certagent::testing::run_certagent;

fs::path temp_dir(const std::string& tag) {
  auto dir = fs::temp_directory_path() / ("certagent-cli-issue-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

std::string base_args(const PebbleEnv& env) {
  return "acme issue --directory " + env.directory_url + " --trust " + env.tls_root +
         " --http-01-listen 127.0.0.1:" + std::to_string(env.http01_port);
}

TEST(CliAcmeIssue, PlantedSymlinksInTheOutputDirectoryAreNeverWrittenThrough) {
  auto env = require_pebble_env("default");
  auto out = temp_dir("symlinks");
  fs::create_directories(out);
  const fs::path victim = out.string() + "-victim";
  std::ofstream(victim) << "precious";
  // The fixed temporary names an earlier certagent used: a truncating open of either followed
  // the link and overwrote the victim.
  for (const char* name : {"cert.pem.tmp", "chain.pem.tmp", "fullchain.pem.tmp", "key.pem.tmp"})
    fs::create_symlink(victim, out / name);
  auto names = fresh_names(1, "cli-link");
  auto r = run_certagent(base_args(env) + " --name " + names[0] + " --out " + out.string() + " --account-key " +
                         (out.string() + "-account.pem"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(victim);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "precious");
  EXPECT_FALSE(fs::is_symlink(out / "cert.pem"));
  // A symlink where an output goes is refused, not followed.
  fs::remove(out / "fullchain.pem");
  fs::create_symlink(victim, out / "fullchain.pem");
  auto again = run_certagent(base_args(env) + " --name " + names[0] + " --out " + out.string() + " --account-key " +
                             (out.string() + "-account.pem"));
  EXPECT_NE(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("symbolic link"), std::string::npos) << again.out;
  std::ifstream in2(victim);
  std::string still((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
  EXPECT_EQ(still, "precious");
  fs::remove_all(out);
  fs::remove(victim);
  fs::remove(out.string() + "-account.pem");
}

TEST(CliAcmeIssue, WritesKeyCertChainAndFullchain) {
  auto env = require_pebble_env("default");
  auto out = temp_dir("ok");
  auto names = fresh_names(2, "cli");
  auto r = run_certagent(base_args(env) + " --name " + names[0] + " --name " + names[1] + " --key rsa-2048 -v --out " +
               out.string() + " --account-key " + (out.string() + "-account.pem"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("HTTP requests"), std::string::npos) << r.out;
  struct stat st{};
  ASSERT_EQ(::stat((out / "key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((out.string() + "-account.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream full(out / "fullchain.pem");
  std::string pem((std::istreambuf_iterator<char>(full)), std::istreambuf_iterator<char>());
  auto chain = protocol::parse_pem_chain(pem);
  ASSERT_TRUE(chain) << chain.error().message;
  EXPECT_EQ(protocol::normalized_names(chain->front().info().dns_names), protocol::normalized_names(names));
  auto key = protocol::PrivateKey::load(out / "key.pem");
  ASSERT_TRUE(key);
  EXPECT_TRUE(protocol::check_key_matches(chain->front(), *key));
  // The same account key again: the existing account is used.
  auto again = run_certagent(base_args(env) + " --name " + names[0] + " --out " + (out.string() + "-2") + " --account-key " +
                   (out.string() + "-account.pem"));
  EXPECT_EQ(again.code, 0) << again.out;
  fs::remove_all(out);
  fs::remove_all(out.string() + "-2");
  fs::remove(out.string() + "-account.pem");
}

TEST(CliAcmeIssue, EabWithAWrongKeyFailsClearly) {
  auto env = require_pebble_env("eab");
  auto dir = temp_dir("eab");
  fs::create_directories(dir);
  std::ofstream(dir / "mac") << "d3Jvbmcgd3Jvbmcgd3Jvbmcgd3Jvbmcgd3Jvbmc";
  auto r = run_certagent(base_args(env) + " --name " + fresh_names(1, "cli")[0] + " --eab-kid " + env.key_id +
               " --eab-hmac-key-file " + (dir / "mac").string() + " --out " + (dir / "out").string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("creating an ACME account"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir / "out" / "key.pem"));
  fs::remove_all(dir);
}

TEST(CliAcmeIssue, BadKeyTypeIsAUsageError) {
  auto env = require_pebble_env("default");
  auto r = run_certagent(base_args(env) + " --name a.example --key dsa-1024 --out /tmp/never");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("unknown key type"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace certagent::integration
