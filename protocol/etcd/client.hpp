#pragma once
// A small client of etcd's v3 API through its JSON gateway (etcd 3.4: POST /v3/kv/range,
// /v3/kv/txn, /v3/lease/...), over the project's HTTP transport (libcurl, TLS verified, a
// client certificate). What a pool needs and nothing more: read a key or a prefix, write one
// only if it is still at the revision read (compare-and-swap in one transaction), and leases —
// a key bound to a lease disappears when its holder stops renewing it, which is what makes
// "the member that holds the key orders" safe when that member dies.
//
// Several endpoints (the cluster's members): a request goes to the one that answered last and
// moves on to the next when it cannot be reached or has no leader, round after round within
// `retry_window` (an election after a member dies takes a second or more); the error names every
// endpoint tried in the last round.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/waiting.hpp"

namespace certagent::protocol {

class Transport;

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "https://host:port" of each member
  std::string trust_file;              // the CA that signed the members' certificates
  std::string client_certificate_file; // PEM; etcd started with --client-cert-auth checks it
  std::string client_key_file;
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};  // per request and endpoint
  // How long a request keeps going round the endpoints while none answers (a member down, the
  // cluster electing a new leader: "leader changed", no leader), 250 ms between rounds.
  std::chrono::milliseconds retry_window{std::chrono::seconds(10)};
  // What waits between rounds (protocol/ never sleeps itself; the agent's SleepingWaiter, which a
  // shutdown cancels). Null: one round only.
  Waiter* waiter = nullptr;
};

struct EtcdKeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;  // the revision of its last write: what compare-and-swap compares
  std::int64_t version = 0;
  std::int64_t lease = 0;         // 0: none
};

// The outcome of a compare-and-swap: whether it was written, and otherwise what is there now
// (unset when the key does not exist).
struct EtcdSwap {
  bool written = false;
  std::int64_t revision = 0;               // the store's revision after the transaction
  std::optional<EtcdKeyValue> current;     // when not written
};

class EtcdClient {
 public:
  // One transport per endpoint (each keeps its connection alive).
  [[nodiscard]] static Result<std::unique_ptr<EtcdClient>> create(EtcdOptions options);
  // For tests: the given transports, one per endpoint, in order.
  [[nodiscard]] static std::unique_ptr<EtcdClient> with_transports(EtcdOptions options,
                                                                   std::vector<std::unique_ptr<Transport>> transports);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  [[nodiscard]] Result<std::optional<EtcdKeyValue>> get(std::string_view key);
  // Every key starting with `prefix`, in key order.
  [[nodiscard]] Result<std::vector<EtcdKeyValue>> list(std::string_view prefix);
  // Writes `value` at `key` only if the key's mod_revision is still `expected_mod_revision`
  // (0: only if the key does not exist), bound to `lease` when not 0.
  [[nodiscard]] Result<EtcdSwap> put_if(std::string_view key, std::string_view value,
                                        std::int64_t expected_mod_revision, std::int64_t lease = 0);
  // Deletes `key` only if its mod_revision is still `expected_mod_revision`; whether it did.
  [[nodiscard]] Result<bool> delete_if(std::string_view key, std::int64_t expected_mod_revision);

  // A lease of `ttl` (etcd may round it up); its id.
  [[nodiscard]] Result<std::int64_t> grant_lease(std::chrono::seconds ttl);
  // Renews the lease; the time it has left, 0 when it has already expired (its keys are gone).
  [[nodiscard]] Result<std::chrono::seconds> keep_alive(std::int64_t lease);
  [[nodiscard]] Result<void> revoke_lease(std::int64_t lease);

  // The endpoint that answered last (for messages and status).
  [[nodiscard]] const std::string& endpoint() const;

 private:
  struct Impl;
  explicit EtcdClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace certagent::protocol
