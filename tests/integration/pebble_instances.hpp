#pragma once
// Pebbles of a test's own, one per profile (tests/integration/pebble-ctl in a private run
// directory), for the CA-fault and daemon tests that need settings the shared fixture does
// not run, or that stop and restart the CA — which would disturb every other test on the
// shared one. The one helper for that: every test that starts a pebble of its own uses it.
#include <filesystem>
#include <string>
#include <vector>

#include "pebble_env.hpp"

namespace certagent::integration {

class PebbleInstances {
 public:
  // `pebble-ctl start DIR SPEC...`; SPEC as pebble-ctl takes it ("NAME=BASE,KEY=VALUE,...").
  // Throws std::runtime_error (a test failure with pebble-ctl's output) when it cannot start.
  explicit PebbleInstances(const std::vector<std::string>& specs);
  ~PebbleInstances();  // `pebble-ctl stop DIR`, then the directory goes
  PebbleInstances(const PebbleInstances&) = delete;
  PebbleInstances& operator=(const PebbleInstances&) = delete;

  [[nodiscard]] PebbleEnv env(const std::string& profile) const;
  // SIGTERM to that profile's pebble; returns once it is gone (the address refuses connections).
  void stop(const std::string& profile) const;
  // `pebble-ctl restart DIR PROFILE`: a new pebble on the same address that knows nothing
  // (stopping the old one first, unless stop() did).
  void restart(const std::string& profile) const;
  [[nodiscard]] std::filesystem::path dir() const { return dir_; }

 private:
  void ctl(const std::vector<std::string>& args) const;
  std::filesystem::path dir_;
};

}  // namespace certagent::integration
