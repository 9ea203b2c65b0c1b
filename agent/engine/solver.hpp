#pragma once
// The challenge solver of one pass, per the policy (a router when names use different
// challenges): ONE built-in http-01
// responder shared by every order of the pass (listening on the policy's
// address), the webroot solver, the dns-01 hook or RFC 2136 updates, or the dns-persist-01 record check.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "agent/store/store.hpp"
#include "policy/model.hpp"
#include "protocol/acme/challenge.hpp"
#include "protocol/acme/http01_responder.hpp"

namespace certagent::agent {

// ":80", "127.0.0.1:5002", "[::1]:80" -> address and port (an empty host: every IPv4 address).
[[nodiscard]] Result<protocol::Http01ResponderOptions> parse_listen(const std::string& listen);

// The solver, started (the responder is listening when this returns).
// `cancel` (may be null) ends a running dns-01 hook when the agent stops. `store` (may be null)
// keeps the dns-01 records an RFC 2136 update added until they are deleted (a SIGKILL between
// the two is cleaned up by the next pass, which this call starts by doing).
// Several challenges (a challenge per name): a router over one solver each, started together.
[[nodiscard]] Result<std::unique_ptr<protocol::ChallengeSolver>> start_solver(const std::vector<policy::Challenge>& challenges,
                                                                          const std::atomic<bool>* cancel = nullptr,
                                                                          const Store* store = nullptr);

}  // namespace certagent::agent
