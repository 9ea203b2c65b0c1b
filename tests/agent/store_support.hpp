#pragma once
// Test helpers for the store tests: a temporary directory per test, test
// certificates issued by a throw-away CA, a store opened for writing, and
// running code in a child process that may die by SIGKILL.
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "agent/store/store.hpp"
#include "support/temp_dir.hpp"

namespace certagent::agent::testing {

using certagent::testing::TempDir;  // tests/support/temp_dir.hpp

struct TestCert {
  std::string key_pem;
  std::string leaf_pem;
  std::string chain_pem;  // the issuing CA
};

// A leaf for `names`, valid from now + not_before_offset for `lifetime`,
// issued by a fresh CA, with a fresh EC P-256 key.
[[nodiscard]] TestCert make_cert(const std::vector<std::string>& names,
                                 std::chrono::seconds not_before_offset = std::chrono::seconds(-60),
                                 std::chrono::seconds lifetime = std::chrono::hours(24 * 90));

// The store in `dir` opened for writing (a failure is a test failure, and throws).
[[nodiscard]] Store open_writable(const std::filesystem::path& dir);

// Runs `body` in a forked child; returns the raw wait status.
int run_in_child(const std::function<void()>& body);

}  // namespace certagent::agent::testing
