#pragma once
// The CAs the parameterized suite (ca_suite_test.cpp) runs its cases against, and what each
// lacks. pebble (Debian's 2.4.0) runs on the host (the `pebble.start` CTest fixture), and so does
// a current pebble (v2.10.3, the `pebble_current.start` fixture; its cases run as the one CTest
// test integration.pebble_current, CERTAGENT_PEBBLE_CURRENT_DIR set); step-ca runs inside a
// private network + mount namespace that tests/integration/step-ca-ctl makes, and only a
// process started there (CERTAGENT_STEPCA_DIR set) instantiates the step-ca cases. A third CA
// joins by a row in kCas (ca_suite.cpp), an env loader, and its own CTest wrapper.
#include <ostream>
#include <string>
#include <vector>

#include "pebble_env.hpp"

namespace certagent::integration {

struct CaUnderTest {
  std::string name;  // the test-name suffix: pebble, pebble_current, step_ca
  bool ari = false;          // renewalInfo in the directory (RFC 9773)
  bool profiles = false;     // certificate profiles in the directory's meta
  bool key_change = false;   // keyChange works (RFC 8555 §7.3.5)
  bool orders_list = false;  // the account's orders list is shaped as RFC 8555 §7.1.2.1 says
  bool revalidates_on_post = false;  // a challenge that could not connect stays pending until POSTed again
  bool dns_persist = false;  // offers dns-persist-01 (draft-ietf-acme-dns-persist) with "accounturi"
};

inline void PrintTo(const CaUnderTest& ca, std::ostream* os) { *os << ca.name; }

// The CAs whose cases this process instantiates: step-ca alone inside step-ca-ctl's
// namespace, else pebble.
[[nodiscard]] std::vector<CaUnderTest> cas_in_this_process();

// The CA's connection facts (the same shape for every CA); `pebble_profile` chooses the
// pebble instance (step-ca has one: its certificates always live two minutes).
[[nodiscard]] PebbleEnv require_ca_env(const CaUnderTest& ca, const std::string& pebble_profile = "default");

// Counted from the CA's own log: every ACME request it handled, and the orders it created.
[[nodiscard]] std::size_t ca_requests(const PebbleEnv& env);
[[nodiscard]] std::size_t ca_new_orders(const PebbleEnv& env);

}  // namespace certagent::integration
