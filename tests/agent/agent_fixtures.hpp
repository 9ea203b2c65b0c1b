#pragma once
// Set-ups several agent tests share: a writable store in a temporary directory that test
// versions are added to (the hook and rebind tests), and an engine whose policy names a CA
// that is not there (the pass and clock-jump tests). Failures to set up throw
// std::runtime_error, which GoogleTest reports.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/engine/pass_types.hpp"
#include "agent/store/store.hpp"
#include "store_support.hpp"

namespace certagent::agent::testing {

// `t`/state opened for writing.
struct StoreFixture {
  TempDir t;
  Store s;

  StoreFixture();
  // Stores a version of a fresh certificate for `names` (recorded in its meta); its id.
  [[nodiscard]] std::string add(const std::vector<std::string>& names);
  [[nodiscard]] std::string thumb(const std::string& id) const;
};

// One shared certificate (front-end: se01.contoso.net and the Autodiscover names of
// contoso.com) ordered from https://127.0.0.1:1/dir, where nothing listens.
inline constexpr const char* kUnreachableCaPolicy = R"({
  "ca": {"directory": "https://127.0.0.1:1/dir"},
  "challenge": {"type": "http-01", "listen": "127.0.0.1:1"},
  "sip_domains": ["contoso.com"],
  "roles": [{"role": "front-end-standard", "server_fqdn": "se01.contoso.net", "layout": "shared"}]
})";

// `dir`/policy.json holding kUnreachableCaPolicy and `dir`/state opened for writing.
struct EngineFixture {
  TempDir dir;
  std::filesystem::path policy = dir.path() / "policy.json";
  std::shared_ptr<Store> store;
  std::atomic<bool> cancel{false};

  EngineFixture();
  // A timer pass at `now`.
  [[nodiscard]] PassRequest at(std::chrono::sys_seconds now) const { return PassRequest{WakeReason::Timer, now, &cancel}; }
};

}  // namespace certagent::agent::testing
