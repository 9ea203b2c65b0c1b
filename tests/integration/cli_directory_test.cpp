// `certagent acme directory` against the fixture's pebble.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "pebble_env.hpp"

namespace {

using certagent::integration::require_pebble_env;

struct Run {
  int code;
  std::string out;
};

Run run(const std::string& args) {
  std::string cmd = std::string(CERTAGENT_BINARY) + " " + args + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return {WEXITSTATUS(status), out};
}

TEST(CliAcmeDirectory, PrintsTheDirectoryTrustingTheFixtureRoot) {
  auto env = require_pebble_env("eab");
  auto r = run("acme directory --directory " + env.directory_url + " --trust " + env.tls_root);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"newOrder\": \"https://"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"externalAccountRequired\": true"), std::string::npos) << r.out;
}

TEST(CliAcmeDirectory, WithoutTrustTheSystemStoreRefusesTheFixture) {
  auto env = require_pebble_env("default");
  auto r = run("acme directory --directory " + env.directory_url);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("TLS verification failed"), std::string::npos) << r.out;
}

TEST(CliAcmeDirectory, PlainHttpIsAUsageError) {
  auto r = run("acme directory --directory http://127.0.0.1:1/dir");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("only https://"), std::string::npos) << r.out;
}

TEST(CliAcmeDirectory, MissingTrustFileIsAUsageError) {
  auto env = require_pebble_env("default");
  auto r = run("acme directory --directory " + env.directory_url + " --trust /nonexistent/root.pem");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/root.pem"), std::string::npos) << r.out;
}

TEST(CliAcmeDirectory, DirectoryOptionIsRequired) {
  auto r = run("acme directory");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--directory"), std::string::npos) << r.out;
}

}  // namespace
