#pragma once
// The policy's per-purpose consumers (hooks, extra output files) in the form
// rebind() takes.
#include <map>
#include <string>
#include <vector>

#include "agent/rebind.hpp"
#include "policy/model.hpp"

namespace certagent::agent {

// Hooks keep their argv and timeout; a `combined_pem` output becomes an
// OutputSpec with the policy's owner, group and key mode. The other output
// kinds (cert/chain/fullchain/key/pkcs12 at custom paths) are not written
// yet: `unsupported` receives one line for each that the policy asks for.
[[nodiscard]] std::map<std::string, PurposeConsumers> consumers_from_policy(const policy::Policy& policy,
                                                                          std::vector<std::string>& unsupported);

}  // namespace certagent::agent
