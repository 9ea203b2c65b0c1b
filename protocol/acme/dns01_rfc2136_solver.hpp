#pragma once
// The dns-01 solver (RFC 8555 §8.4) that writes the TXT records itself: one RFC 2136 UPDATE,
// signed with TSIG, per zone for every record of an order, sent to the zone's primary; then
// it waits until every name server of the zone (its NS set, each asked directly) serves every
// value; afterwards one UPDATE deletes exactly those records again.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "protocol/acme/challenge.hpp"
#include "protocol/dns/rfc2136.hpp"
#include "protocol/dns/tsig_key.hpp"

namespace certagent::protocol {

// The records added and not yet deleted, by zone.
using ZoneRecords = std::map<std::string, std::set<TxtRecord>>;

// Where the solver keeps that set, so that records a killed agent added (SIGKILL between the
// add and the delete) are deleted by the next one. The agent keeps it in its state directory.
class RecordJournal {
 public:
  virtual ~RecordJournal() = default;
  // Replaces the whole set (empty: nothing pending). Written before each add, after each delete.
  [[nodiscard]] virtual Result<void> save(const ZoneRecords& pending) = 0;
  [[nodiscard]] virtual Result<ZoneRecords> load() = 0;
};

struct Rfc2136Options {
  DnsServer primary;                       // where UPDATEs go (and SOA/NS questions)
  TsigKey key;
  std::optional<std::string> zone;         // unset: found by an SOA query to `primary`
  std::uint32_t ttl = 60;
  std::uint16_t nameserver_port = 53;      // the port every server of the NS set answers on
  std::chrono::milliseconds propagation_step{std::chrono::seconds(2)};
  std::chrono::milliseconds propagation_timeout{std::chrono::seconds(120)};
  DnsExchangeOptions exchange;
  std::shared_ptr<RecordJournal> journal;  // null: records are remembered in memory only
};

class Rfc2136Solver final : public BatchSolver {
 public:
  explicit Rfc2136Solver(Rfc2136Options options);
  ~Rfc2136Solver() override;
  Rfc2136Solver(const Rfc2136Solver&) = delete;
  Rfc2136Solver& operator=(const Rfc2136Solver&) = delete;

  [[nodiscard]] std::string_view type() const override { return "dns-01"; }
  // Deletes what the journal says an earlier run added and never deleted; returns how many.
  [[nodiscard]] Result<std::size_t> remove_leftovers();
  // One UPDATE per zone adding every record. Unauthorized with the server's rcode and the key
  // name when the server refuses the key.
  [[nodiscard]] Result<void> present_batch(const std::vector<ChallengeTask>& tasks) override;
  // Polls every name server of each zone, every propagation_step, until each serves every
  // value; Timeout after propagation_timeout, naming each server that lagged and what it lacked.
  [[nodiscard]] Result<void> await_published(const std::vector<ChallengeTask>& tasks, const Clock& clock,
                                             Waiter& waiter) override;
  // One UPDATE per zone deleting exactly the records present_batch added for these tasks.
  [[nodiscard]] Result<void> clean_up_batch(const std::vector<ChallengeTask>& tasks) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certagent::protocol
