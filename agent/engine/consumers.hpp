#pragma once
// The policy's per-purpose consumers (hooks, extra output files, systemd units) in the form
// rebind() takes.
#include <map>
#include <string>

#include "agent/engine/rebind.hpp"
#include "policy/model.hpp"

namespace certagent::agent {

// Hooks keep their argv and timeout; each output file the policy names
// (cert, chain, fullchain, key, combined_pem, pkcs12) becomes an OutputSpec
// with the policy's owner and group, key_mode for the files holding the
// private key (key, combined_pem, pkcs12) and cert_mode for the others;
// reload_units then restart_units become UnitActions, in the policy's order.
[[nodiscard]] std::map<std::string, PurposeConsumers> consumers_from_policy(const policy::Policy& policy);

}  // namespace certagent::agent
