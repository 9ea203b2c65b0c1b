#include "agent/engine/solver.hpp"

#include "agent/store/dns_records.hpp"
#include "agent/store/logging.hpp"
#include "common/host_port.hpp"

#include "policy/challenge_select.hpp"
#include "protocol/acme/challenge_router.hpp"
#include "protocol/acme/dns01_hook_solver.hpp"
#include "protocol/acme/dns01_rfc2136_solver.hpp"
#include "protocol/acme/dns_persist_solver.hpp"
#include "protocol/acme/webroot_solver.hpp"

namespace certagent::agent {

Result<protocol::Http01ResponderOptions> parse_listen(const std::string& listen) {
  const std::string what = "the http-01 listen address \"" + listen + "\"";
  auto address = parse_host_port(listen);
  if (!address) return std::unexpected(address.error().context(what));
  if (address->port == 0) return fail(ErrorKind::Invalid, what + ": the port must be 1 to 65535");
  protocol::Http01ResponderOptions options;
  options.address = address->host.empty() ? "0.0.0.0" : address->host;
  options.port = address->port;
  return options;
}

namespace {

// The solver's record journal in the state directory (agent/store/dns_records.hpp).
class StoreRecordJournal final : public protocol::RecordJournal {
 public:
  explicit StoreRecordJournal(const Store& store) : store_(store) {}
  Result<void> save(const protocol::ZoneRecords& pending) override {
    std::vector<PendingDnsRecord> list;
    for (const auto& [zone, records] : pending)
      for (const auto& r : records) list.push_back(PendingDnsRecord{zone, r.name, r.value});
    return write_pending_dns_records(store_, list);
  }
  Result<protocol::ZoneRecords> load() override {
    auto list = read_pending_dns_records(store_);
    if (!list) return std::unexpected(list.error());
    protocol::ZoneRecords out;
    for (auto& r : *list) out[r.zone].insert(protocol::TxtRecord{std::move(r.name), std::move(r.value)});
    return out;
  }

 private:
  const Store& store_;
};

// The RFC 2136 solver: the TSIG key is read (and its file's mode checked) when the pass starts,
// and records an earlier, killed run left are deleted first.
Result<std::unique_ptr<protocol::ChallengeSolver>> start_rfc2136(const policy::Rfc2136& rfc, const Store* store) {
  protocol::Rfc2136Options options;
  auto primary = protocol::parse_dns_server(rfc.server);
  if (!primary) return std::unexpected(primary.error().context("the dns-01 rfc2136 server"));
  options.primary = *primary;
  auto key = protocol::read_tsig_key_file(rfc.key_file);
  if (!key) return std::unexpected(key.error().context("reading the dns-01 TSIG key"));
  options.key = std::move(*key);
  options.zone = rfc.zone;
  options.nameserver_port = static_cast<std::uint16_t>(rfc.nameserver_port);
  options.propagation_timeout = rfc.propagation_timeout;
  options.propagation_step = rfc.propagation_interval;
  if (store != nullptr) options.journal = std::make_shared<StoreRecordJournal>(*store);
  auto solver = std::make_unique<protocol::Rfc2136Solver>(std::move(options));
  if (auto left = solver->remove_leftovers(); !left)  // kept in the journal for the next pass
    module_logger("engine")->warn("{}", left.error().message);
  return solver;
}

Result<std::unique_ptr<protocol::ChallengeSolver>> start_one(const policy::Challenge& challenge,
                                                             const std::atomic<bool>* cancel, const Store* store) {
  if (challenge.type == policy::Challenge::Type::Dns01 && challenge.rfc2136) return start_rfc2136(*challenge.rfc2136, store);
  if (challenge.type == policy::Challenge::Type::Dns01) {
    protocol::Dns01HookOptions options;
    options.hook = challenge.dns_hook;
    options.cancel = cancel;
    return protocol::make_dns01_hook_solver(std::move(options));
  }
  if (challenge.type == policy::Challenge::Type::DnsPersist01) {
    protocol::DnsPersistOptions options;
    options.lookup.resolver = challenge.resolver;
    options.issuer_domain = challenge.issuer_domain;
    return std::make_unique<protocol::DnsPersistSolver>(std::move(options));
  }
  if (challenge.webroot) return protocol::make_webroot_solver(*challenge.webroot);
  auto options = parse_listen(challenge.listen);
  if (!options) return std::unexpected(options.error());
  auto responder = std::make_unique<protocol::Http01Responder>(*options);
  if (auto started = responder->start(); !started)
    return std::unexpected(started.error().context("starting the http-01 responder on " + challenge.listen));
  return responder;
}

}  // namespace

Result<std::unique_ptr<protocol::ChallengeSolver>> start_solver(const std::vector<policy::Challenge>& challenges,
                                                                const std::atomic<bool>* cancel, const Store* store) {
  if (challenges.empty()) return fail(ErrorKind::Invalid, "the policy names no challenge");
  if (challenges.size() == 1) return start_one(challenges.front(), cancel, store);
  std::vector<std::unique_ptr<protocol::ChallengeSolver>> solvers;
  for (const auto& c : challenges) {
    auto solver = start_one(c, cancel, store);
    if (!solver) return std::unexpected(std::move(solver.error()).context("the policy's " + c.at));
    solvers.push_back(std::move(*solver));
  }
  return std::make_unique<protocol::ChallengeRouter>(
      std::move(solvers), [challenges](std::string_view name) { return policy::challenge_index(challenges, name); });
}

}  // namespace certagent::agent
