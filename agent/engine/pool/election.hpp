#pragma once
// Who in a pool does a piece of work (issue 21: one order per pool-wide certificate): the member
// that holds an etcd key bound to its own lease. The key is created only when absent
// (compare-and-swap), so of any number of members campaigning at once exactly one holds it; it
// disappears by itself when its holder stops renewing the lease (a crash, SIGKILL, a network
// cut), so another member takes over within the lease's TTL. No lock of certagent's making.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "protocol/etcd/client.hpp"

namespace certagent::agent {

class PoolElection {
 public:
  // `key`: the etcd key of the thing led (e.g. "<prefix>/leader/<certificate id>"); `member`:
  // this member's name, stored as the key's value; `ttl`: how long a dead leader blocks the rest.
  PoolElection(protocol::EtcdClient& etcd, std::string key, std::string member, std::chrono::seconds ttl);

  // Leads when no live member does: this member's name when it leads now, else the leader's.
  [[nodiscard]] Result<std::string> campaign();
  // Renews this member's lease; false when leadership was lost (the lease ran out: another
  // member may lead by now) — the caller must stop the led work.
  [[nodiscard]] Result<bool> renew();
  // Gives up leadership at once (the next campaign of another member wins).
  [[nodiscard]] Result<void> resign();

  [[nodiscard]] bool leads() const { return leads_; }
  [[nodiscard]] const std::string& key() const { return key_; }
  // The lease this member's campaign holds (0: none); what a keeper renews while the led work runs.
  [[nodiscard]] std::int64_t lease() const { return lease_; }

 private:
  protocol::EtcdClient& etcd_;
  std::string key_;
  std::string member_;
  std::chrono::seconds ttl_;
  std::int64_t lease_ = 0;
  std::int64_t revision_ = 0;  // of the key this member wrote
  bool leads_ = false;
};

}  // namespace certagent::agent
