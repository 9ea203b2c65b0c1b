// `certagent acme directory` against the fixture's pebble.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <string>

#include "pebble_env.hpp"
#include "support/cli_runner.hpp"

namespace {

using certagent::integration::require_pebble_env;

using certagent::testing::run_certagent;

TEST(CliAcmeDirectory, PrintsTheDirectoryTrustingTheFixtureRoot) {
  auto env = require_pebble_env("eab");
  auto r = run_certagent("acme directory --directory " + env.directory_url + " --trust " + env.tls_root);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"newOrder\": \"https://"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"externalAccountRequired\": true"), std::string::npos) << r.out;
}

TEST(CliAcmeDirectory, WithoutTrustTheSystemStoreRefusesTheFixture) {
  auto env = require_pebble_env("default");
  auto r = run_certagent("acme directory --directory " + env.directory_url);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("TLS verification failed"), std::string::npos) << r.out;
}

TEST(CliAcmeDirectory, PlainHttpIsAUsageError) {
  auto r = run_certagent("acme directory --directory http://127.0.0.1:1/dir");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("only https://"), std::string::npos) << r.out;
}

TEST(CliAcmeDirectory, MissingTrustFileIsAUsageError) {
  auto env = require_pebble_env("default");
  auto r = run_certagent("acme directory --directory " + env.directory_url + " --trust /nonexistent/root.pem");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/root.pem"), std::string::npos) << r.out;
}

TEST(CliAcmeDirectory, DirectoryOptionIsRequired) {
  auto r = run_certagent("acme directory");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--directory"), std::string::npos) << r.out;
}

}  // namespace
