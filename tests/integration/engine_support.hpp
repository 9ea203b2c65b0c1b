#pragma once
// Helpers for the engine's CLI-level integration tests: a temporary state
// directory and policy for a Lync Front End Enterprise pool against the
// fixture's pebble, and a way to run the real `certagent` binary.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "common/process.hpp"
#include "pebble_env.hpp"

namespace certagent::integration {

struct PoolPolicy {
  std::vector<std::string> sip_domains{"contoso.com", "fabrikam.com"};
  std::string layout = "shared";
  // purpose -> hook argv (absolute program first)
  std::map<std::string, std::vector<std::string>> hooks;
  // purpose -> output settings, e.g. {"combined_pem", "/abs/path"} (string values)
  std::map<std::string, std::map<std::string, std::string>> outputs;
  std::string directory;      // the CA's directory URL; "" for the fixture's pebble
  bool trust_pebble = true;   // name pebble's root as the trust bundle
  std::string renewal;     // the policy's `renewal` ("92%", "30s"); empty: not written (auto)
  std::string dns01_hook;  // set: challenge dns-01 through this hook instead of http-01
  std::string preferred_chain;  // ca.preferred_chain when not empty
  std::string key;              // the policy's `key` ("rsa-2048") when not empty
  int concurrency = 0;          // ca.concurrency when > 0
};

[[nodiscard]] inline PoolPolicy pool(std::string layout) {
  PoolPolicy p;
  p.layout = std::move(layout);
  return p;
}

// A fresh directory under the test temp dir with state/ and policy.json.
class EngineSandbox {
 public:
  explicit EngineSandbox(const std::string& profile = "default");
  explicit EngineSandbox(PebbleEnv pebble);  // a private pebble the test started
  ~EngineSandbox();
  EngineSandbox(const EngineSandbox&) = delete;
  EngineSandbox& operator=(const EngineSandbox&) = delete;

  [[nodiscard]] const PebbleEnv& pebble() const { return pebble_; }
  [[nodiscard]] std::filesystem::path dir() const { return dir_; }
  [[nodiscard]] std::filesystem::path state() const { return dir_ / "state"; }
  [[nodiscard]] std::filesystem::path policy_file() const { return dir_ / "policy.json"; }

  void write_policy(const PoolPolicy& p) const;
  // The policy document write_policy writes, as text (one line of JSON and a newline).
  [[nodiscard]] std::string policy_text(const PoolPolicy& p) const;
  // Replaces the policy file as editors do: write a temporary beside it, then rename it over.
  void replace_policy(const std::string& text) const;
  // A hook script that appends "PURPOSE ACTION OLD NEW" to hooks.log and exits `exit_code`.
  [[nodiscard]] std::string make_hook(const std::string& name, int exit_code = 0) const;
  [[nodiscard]] std::vector<std::string> hook_log() const;

  // Runs `certagent --policy P --state-dir S <args>` with `env` added.
  [[nodiscard]] ProcessOutcome certagent(const std::vector<std::string>& args,
                                         const std::vector<std::string>& env = {}) const;
  // `certs --json`, parsed: purpose -> its object.
  [[nodiscard]] std::map<std::string, boost::json::object> certs() const;

 private:
  PebbleEnv pebble_;
  std::filesystem::path dir_;
};

// Orders pebble has created so far ("Added order" in its log; a newOrder POST
// that pebble rejects with badNonce, and the client retries, is not an order).
[[nodiscard]] std::size_t new_order_count(const PebbleEnv& pebble);
// Requests of one kind pebble has handled so far, e.g. "GET /dir", "HEAD /nonce-plz".
[[nodiscard]] std::size_t handled_count(const PebbleEnv& pebble, const std::string& method_and_path);

[[nodiscard]] std::vector<std::string> names_of(const boost::json::object& cert);
[[nodiscard]] std::string thumbprint_of(const boost::json::object& cert);

}  // namespace certagent::integration
