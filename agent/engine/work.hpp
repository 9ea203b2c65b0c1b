#pragma once
// The engine's two kinds of work on one certificate: order a new version and
// store it, and bind a stored version to purposes (rebind with rollback, hooks).
// Store writes go through the context's SharedStore (a StoreWriter each,
// agent/store/shared.hpp), so several certificates can be worked at once.
#include <map>
#include <string>
#include <vector>

#include "agent/engine/acme.hpp"
#include "agent/engine/rebind.hpp"
#include "agent/store/shared.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"
#include "policy/model.hpp"

namespace certagent::agent {

struct EngineContext {
  SharedStore* store = nullptr;
  const CaAccess* ca = nullptr;
  protocol::ChallengeSolver* solver = nullptr;
  const protocol::Clock* clock = nullptr;
  protocol::Waiter* waiter = nullptr;
  std::map<std::string, PurposeConsumers> consumers;
};

// One ACME order for exactly `names` with a new key of `key` (replacing the
// certificate with ARI certID `replaces`, "" none), through `session` (the
// calling thread's; agent/engine/acme.hpp open_ca); the result is stored
// (verified: the key matches, the names are the order's) and returned.
// The profile the order asked for is stored with the certificate (CertificateMeta::profile).
[[nodiscard]] Result<StoredVersion> obtain_version(EngineContext& ctx, protocol::AcmeSession& session,
                                                   const OrderRequest& req);

// Binds `version_id` to `purposes`, running each purpose's outputs and hooks;
// a failure rolls every purpose of the step back to its previous version
// (agent/engine/rebind.hpp) and is returned as an error naming every purpose that failed.
// `unowed`: Store::LiveSync::Caller only inside an engine pass, which fsyncs
// live/ at its end (engine/pass.cpp work()).
[[nodiscard]] Result<std::vector<RebindOutcome>> bind_version(EngineContext& ctx,
                                                              const std::vector<std::string>& purposes,
                                                              const std::string& version_id,
                                                              Store::LiveSync unowed = Store::LiveSync::Now);

// The names as plain strings (policy::RequiredName -> name).
[[nodiscard]] std::vector<std::string> plain_names(const std::vector<policy::RequiredName>& names);

}  // namespace certagent::agent
