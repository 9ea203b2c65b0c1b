#pragma once
// A pass's side of a pool (issue 21, docs/pool.md): for a pool-wide certificate that needs an
// order, one member orders and every member installs what it ordered.
//
// etcd keys under the pool's prefix:
//   leader/<cert>          the member ordering <cert> now; created only when absent, bound to
//                          that member's lease (PoolElection): at most one holder at a time
//   version/<cert>         the pool's current version: JSON with thumbprint, names, not_after,
//                          key type, profile and who ordered it in clear, and the chain and the
//                          private key sealed (AES-256-GCM, the pool key, bound to this key name)
//   bound/<cert>/<member>  the thumbprint each member has bound
//   journal/<cert>         the leader's order journal (agent/store/order_journal.hpp), sealed:
//                          written before the CA acts on each step, so that a member taking
//                          over resumes that order instead of placing a second one
//   account                the pool's ACME account (its key sealed): one account for the pool,
//                          so that a member taking over can read the order its leader placed
//
// Before ordering, a member reads version/<cert>: a version with exactly the names (key type,
// profile) the plan wants, other than the certificate being replaced and not older than it, is
// opened, verified (the key matches, the names, the chain links up, valid now), stored and bound
// — no order. Otherwise the member campaigns: the leader reads version/ once more (a leader that
// just finished may have published), orders through the engine's usual path and publishes; the
// others wait, polling every second, until a version that serves appears (installed) or the
// leader's key is gone (its lease ran out: they campaign again and one takes over).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/engine/pool/election.hpp"
#include "agent/engine/work.hpp"
#include "agent/store/order_journal.hpp"
#include "common/error.hpp"
#include "policy/model.hpp"
#include "policy/plan.hpp"
#include "protocol/etcd/client.hpp"
#include "protocol/x509/aead.hpp"

namespace certagent::agent {

enum class PoolStep {
  Installed,  // the pool's version is stored and bound here: nothing to order
  Lead,       // this member orders it (and publishes it afterwards: PoolPass::publish)
  Follow,     // another member orders it: wait (PoolPass::follow)
  Alone,      // etcd cannot be reached and the certificate is close to its end: order it here, unshared
};

class PoolPass {
 public:
  // Null without a pool in the policy. Nothing is opened before the first pool-wide order.
  [[nodiscard]] static std::unique_ptr<PoolPass> for_policy(const policy::Policy& policy, protocol::Waiter& waiter,
                                                            const std::atomic<bool>* cancel);
  // Whether a certificate this member could not coordinate (etcd unreachable) is close enough
  // to its end to be ordered alone: less than a tenth of the bound certificate's lifetime left
  // (nothing bound: never — N members would place N orders for a pool that serves nothing yet).
  [[nodiscard]] static bool order_alone(const EngineContext& ctx, const std::string& replaced);
  ~PoolPass();
  PoolPass(const PoolPass&) = delete;
  PoolPass& operator=(const PoolPass&) = delete;

  [[nodiscard]] bool pool_wide(const policy::RequiredCertificate& c) const;

  // Before ordering `a` (an issue, reissue or renewal): install the pool's version when it
  // serves, else campaign. `replaced`: the stored version the action replaces ("" none).
  // etcd unreachable: an error (the certificate backs off and is tried again), or Alone.
  [[nodiscard]] Result<PoolStep> before_order(EngineContext& ctx, const policy::Action& a, const std::string& replaced);
  // A follower: waits until the pool's version serves (Installed) or this member takes over
  // the lead from a leader that is gone (Lead); a Timeout error when the leader neither
  // publishes nor dies within `kFollowLimit`.
  [[nodiscard]] Result<PoolStep> follow(EngineContext& ctx, const policy::Action& a, const std::string& replaced);
  // The leader, after its order: seals and publishes the version now bound to the
  // certificate's purposes (when `ordered`), then gives up the lead.
  [[nodiscard]] Result<void> finish_lead(EngineContext& ctx, const policy::Action& a, bool ordered);

  // Reads the pool's keys (one range request) and writes what it says of `certificate_ids` to
  // <state>/pool.json for `certagent status` (agent/store/pool_view.hpp); logged when it cannot.
  void record_view(EngineContext& ctx, const std::vector<std::string>& certificate_ids);

  static constexpr std::chrono::minutes kFollowLimit{10};

 private:
  PoolPass(policy::Pool pool, policy::CaConfig ca, protocol::Waiter& waiter, const std::atomic<bool>* cancel);
  Result<void> open(EngineContext& ctx);
  // The pool's ACME account becomes this member's (or this member's, registered if need be, the pool's).
  Result<void> share_account(EngineContext& ctx);
  // The journal of the order a leader that died placed, into this member's store.
  Result<void> import_journal(EngineContext& ctx, const std::string& certificate_id);
  Result<void> mirror_journal(const OrderJournal& journal);
  Result<PoolStep> campaign(EngineContext& ctx, const policy::Action& a, const std::string& replaced);
  // Installs version/<cert> when it serves `a`; whether it did. `polling`: why not at debug level.
  Result<bool> install_if_serves(EngineContext& ctx, const policy::Action& a, const std::string& replaced,
                                 bool polling = false);
  // Stops renewing the lead's lease and deletes the leader key (the next campaign of another member wins).
  void give_up_lead(const std::string& certificate_id);
  void report_bound(const std::string& certificate_id, const std::string& thumbprint);
  void keep_leases();
  [[nodiscard]] std::string key(std::string_view kind, std::string_view certificate_id) const;

  policy::Pool pool_;
  policy::CaConfig ca_;
  std::filesystem::path state_dir_;  // whose journals are mirrored
  std::mutex account_m_;
  bool account_shared_ = false;  // under account_m_
  protocol::Waiter& waiter_;
  const std::atomic<bool>* cancel_;
  std::unique_ptr<protocol::EtcdClient> etcd_;
  std::unique_ptr<protocol::EtcdClient> keeper_etcd_;  // the lease keeper's own (a client is one thread's)
  std::optional<protocol::AeadKey> key_;
  std::mutex m_;  // etcd_, elections_ (followers and leaders run on several workers)
  std::map<std::string, std::unique_ptr<PoolElection>> elections_;
  std::mutex leases_m_;
  std::condition_variable leases_cv_;
  std::map<std::string, std::int64_t> leases_;  // of the certificates this member leads
  bool stop_ = false;
  std::thread keeper_;
};

}  // namespace certagent::agent
