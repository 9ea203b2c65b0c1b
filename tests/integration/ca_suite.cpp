#include "ca_suite.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "engine_support.hpp"

namespace certagent::integration {
namespace {

const char* stepca_dir() {
  const char* dir = std::getenv("CERTAGENT_STEPCA_DIR");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

// Set by the integration.pebble_current test: this process runs the suite against pebble v2.10.3.
const char* pebble_current_dir() {
  const char* dir = std::getenv("CERTAGENT_PEBBLE_CURRENT_DIR");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

bool is_step_ca(const PebbleEnv& env) { return env.profile == "step-ca"; }

std::size_t log_lines_with(const PebbleEnv& env, const std::vector<std::string>& needles) {
  std::ifstream in(env.log);
  if (!in) throw std::runtime_error("cannot read the CA's log " + env.log);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (const auto& needle : needles) all = all && line.find(needle) != std::string::npos;
    n += all ? 1 : 0;
  }
  return n;
}

}  // namespace

std::vector<CaUnderTest> cas_in_this_process() {
  // pebble 2.4.0 (Debian): no ARI (2.6.0), no profiles (2.7.0); keyChange and the orders list work.
  static const CaUnderTest kPebble{"pebble", false, false, true, true, false};
  // step-ca 0.19: no ARI, no profiles, keyChange answers 501, the orders list is a bare array.
  static const CaUnderTest kStepCa{"step_ca", false, false, false, false, true};
  // pebble v2.10.3 (scripts/bootstrap, Go module proxy): ARI, profiles, keyChange, the orders list.
  static const CaUnderTest kPebbleCurrent{"pebble_current", true, true, true, true, false, true};
  if (stepca_dir() != nullptr) return {kStepCa};
  if (pebble_current_dir() != nullptr) return {kPebbleCurrent};
  return {kPebble};
}

PebbleEnv require_ca_env(const CaUnderTest& ca, const std::string& pebble_profile) {
  if (ca.name == "pebble") return require_pebble_env(pebble_profile);
  if (ca.name == "pebble_current") {
    const char* dir = pebble_current_dir();
    if (dir == nullptr)
      throw std::runtime_error("CERTAGENT_PEBBLE_CURRENT_DIR is not set: run the current pebble's cases through "
                               "`ctest -R integration.pebble_current`");
    auto env = load_pebble_env_from(dir, pebble_profile);
    if (!env) throw std::runtime_error(env.error().message);
    return *env;
  }
  const char* dir = stepca_dir();
  if (dir == nullptr)
    throw std::runtime_error("CERTAGENT_STEPCA_DIR is not set: run the step-ca cases through "
                             "`ctest -R integration.step_ca` (tests/integration/step-ca-ctl)");
  auto env = load_pebble_env_from(dir, "step-ca");
  if (!env) throw std::runtime_error(env.error().message);
  return *env;
}

std::size_t ca_requests(const PebbleEnv& env) {
  if (!is_step_ca(env)) return env.request_count().value();
  return log_lines_with(env, {" path=/acme/acme/"});
}

std::size_t ca_new_orders(const PebbleEnv& env) {
  if (!is_step_ca(env)) return new_order_count(env);
  return log_lines_with(env, {" path=/acme/acme/new-order ", " status=201 "});
}

}  // namespace certagent::integration
