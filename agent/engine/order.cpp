// order_certificate (agent/engine/acme.hpp): the one order pipeline
// (protocol::issue_certificate) with the store's order journal
// (agent/store/order_journal.hpp): each step journaled before the CA can act
// on it, so that an order interrupted at any point is picked up where it
// stopped and never placed twice.
#include <fmt/format.h>

#include "agent/engine/acme.hpp"
#include "agent/engine/ari.hpp"
#include "agent/store/fault.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/order_journal.hpp"
#include "agent/engine/order_lookup.hpp"

namespace certagent::agent {
namespace {

using protocol::KeyPtr;
using protocol::Order;
using protocol::ReadyKey;

struct InFlight {
  Order order;
  OrderJournal journal;
  KeyPtr key;  // null until generated and journaled (no CSR sent yet)
};

// Journal writes and removals need no StoreWriter (they go through
// SharedStore::unlocked(), agent/store/shared.hpp), so the fsyncs of
// different certificates' journals overlap. That is safe because:
// - each journal is its own file, orders/<certificate-id>.json, and one
//   certificate is worked by one worker at a time (a pass hands each job to
//   one worker; the lost-account retry runs after they all joined);
// - they touch none of Store's in-memory state, only its directory, fixed at
//   construction (the mutex guards that state, the memo of verified
//   versions, and serializes the other writers: certs/, live/, accounts/,
//   ari/, schedule/, never orders/);
// - the temporary's name is random per thread (fsutil::temp_name), and a
//   DirSyncBatch is per thread (none is alive on a worker);
// - two first journals creating orders/ at once: write_order_journal
//   serializes the creation, so neither writes into an orders/ whose entry is
//   not durable yet (agent/store/order_journal.cpp);
// - nothing else reads or writes orders/ while the workers run: stale
//   temporaries are swept at the start of the pass, orders/ is fsynced at its end.
Result<void> journal_step(const Store& store, const OrderJournal& j, const std::string& step) {
  if (auto w = write_order_journal(store, j); !w) return std::unexpected(w.error().context(step));
  return ok();
}

void drop_journal(const Store& store, const std::string& id, const std::string& why) {
  module_logger("engine")->warn("{}: not resuming the journaled order: {}", id, why);
  if (auto r = remove_order_journal(store, id); !r) module_logger("engine")->error("{}: {}", id, r.error().message);
}

// Puts the certificate key into `j` when `ready_key` has it without waiting,
// so that it is journaled with the order's URL and needs no write of its own.
// Null (nothing put) otherwise; a key whose PEM cannot be made is left to the
// separate step, which reports it.
KeyPtr attach_ready_key(OrderJournal& j, const ReadyKey& ready_key) {
  KeyPtr key = ready_key ? ready_key() : nullptr;
  if (!key) return nullptr;
  auto pem = key->to_pem();
  if (!pem) return nullptr;
  j.key_pem = std::move(*pem);
  return key;
}

// Only the intent was journaled: the order a killed run placed, from the account's orders list.
// Account records (accounts/) are read and written through a StoreWriter.
std::optional<InFlight> look_up(protocol::AcmeSession& session, const CaAccess& ca, OrderJournal journal,
                                SharedStore& shared, const ReadyKey& ready_key) {
  const Store& store = shared.unlocked();
  const auto& id = journal.certificate_id;
  if (journal.account_url != session.account().url) {
    module_logger("engine")->info("{}: the journaled intent was for another account; placing a new order", id);
    return std::nullopt;
  }
  if (orders_list_unusable(*shared.lock(), ca.directory_url)) {
    module_logger("engine")->info("{}: the CA's orders list is not read (it was not shaped as RFC 8555 says); "
                                  "placing a new order", id);
    return std::nullopt;
  }
  const OrderIntent intent{journal.names, journal.profile,
                           ClockTime(std::chrono::seconds(journal.intent_time))};
  auto found = find_intended_order(session, intent);
  if (!found) {
    module_logger("engine")->warn("{}: could not look up the order placed before an interruption ({}); "
                                  "placing a new one", id, found.error().message);
    if (found.error().kind == ErrorKind::Protocol)
      mark_orders_list_unusable(shared.lock(), ca.directory_url, found.error().message);
    return std::nullopt;
  }
  if (!found->order) {
    module_logger("engine")->info("{}: no order for the journaled intent among the {} listed ({} read); placing one",
                                  id, found->listed, found->fetched);
    return std::nullopt;
  }
  journal.order_url = found->order->url;
  KeyPtr key = attach_ready_key(journal, ready_key);
  if (auto j = journal_step(store, journal, "journaling the order found in the account's list"); !j) {
    module_logger("engine")->warn("{}: {}", id, j.error().message);
    return std::nullopt;
  }
  module_logger("engine")->info("{}: resuming order {} ({}), found in the account's orders list", id,
                                found->order->url, found->order->status);
  return InFlight{std::move(*found->order), std::move(journal), std::move(key)};
}

// The journaled order when the CA still has it for the same names and it can still succeed.
std::optional<InFlight> resume(protocol::AcmeSession& session, const CaAccess& ca, const OrderRequest& req,
                               SharedStore& shared, const ReadyKey& ready_key) {
  const Store& store = shared.unlocked();
  auto journal = read_order_journal(store, req.certificate_id);
  if (!journal) return drop_journal(store, req.certificate_id, journal.error().message), std::nullopt;
  if (!*journal) return std::nullopt;
  if (protocol::normalized_names((*journal)->names) != protocol::normalized_names(req.names))
    return drop_journal(store, req.certificate_id, "the required names changed"), std::nullopt;
  if ((*journal)->order_url.empty()) return look_up(session, ca, std::move(**journal), shared, ready_key);
  auto order = protocol::fetch_order(session, (*journal)->order_url);
  if (!order) return drop_journal(store, req.certificate_id, order.error().message), std::nullopt;
  if (order->status == "invalid")
    return drop_journal(store, req.certificate_id, "the CA says the order is invalid"), std::nullopt;
  // What the CA says the order is for, not what the journal says: never answer challenges (or
  // run a dns-01 hook) for names the policy does not require.
  if (protocol::identifier_names(order->identifiers) != protocol::normalized_names(req.names))
    return drop_journal(store, req.certificate_id, "the CA's order is for other names than the policy requires"),
           std::nullopt;
  KeyPtr key;
  if (!(*journal)->key_pem.empty()) {
    auto parsed = protocol::PrivateKey::from_pem((*journal)->key_pem);
    if (!parsed) return drop_journal(store, req.certificate_id, parsed.error().message), std::nullopt;
    key = std::make_shared<const protocol::PrivateKey>(std::move(*parsed));
  } else if (order->status == "processing" || order->status == "valid") {
    return drop_journal(store, req.certificate_id, "the order was finalized with a key no journal holds"),
           std::nullopt;
  }
  module_logger("engine")->info("{}: resuming order {} ({})", req.certificate_id, order->url, order->status);
  return InFlight{std::move(*order), std::move(**journal), std::move(key)};
}

// The order journal of one certificate as the pipeline's IssueJournal.
class StoreJournal final : public protocol::IssueJournal {
 public:
  // `shared` and `ca` may be null when resume() is not called (place_order).
  StoreJournal(const CaAccess* ca, const OrderRequest& req, const Store& store, SharedStore* shared)
      : ca_(ca), req_(req), store_(store), shared_(shared) {}

  std::optional<protocol::PlacedOrder> resume(protocol::AcmeSession& session, const ReadyKey& ready_key) override {
    auto found = agent::resume(session, *ca_, req_, *shared_, ready_key);
    if (!found) return std::nullopt;
    journal_ = std::move(found->journal);
    return protocol::PlacedOrder{std::move(found->order), std::move(found->key)};
  }

  Result<void> intend(const protocol::AcmeSession& session) override {
    const auto now = std::chrono::floor<std::chrono::seconds>(session.clock().now());
    journal_ = OrderJournal{req_.certificate_id, "", req_.names, "", req_.profile, session.account().url,
                            now.time_since_epoch().count()};
    if (auto j = journal_step(store_, journal_, "journaling the intent to order"); !j) return j;
    return fault("engine.order.after_intent");
  }

  void new_order_failed(Error& e, bool no_order) override {
    if (no_order)
      if (auto r = remove_order_journal(store_, req_.certificate_id); !r)
        module_logger("engine")->error("{}: {}", req_.certificate_id, r.error().message);
    // A CA that refuses an order for its size says so in a rejectedIdentifier or malformed
    // problem; the operator's fix is in the policy.
    if (req_.names.size() > 1 && (e.problem_type == "urn:ietf:params:acme:error:rejectedIdentifier" ||
                                  e.problem_type == "urn:ietf:params:acme:error:malformed"))
      e.message += fmt::format(
          " (the order asked for {} names on one certificate: if the CA limits that, set ca.max_names to its "
          "limit, and list the Autodiscover domains (\"autodiscover\": [...] on the role) or use separate "
          "certificates)",
          req_.names.size());
  }

  Result<KeyPtr> placed(const Order& order, const ReadyKey& ready_key) override {
    journal_.order_url = order.url;
    KeyPtr key = attach_ready_key(journal_, ready_key);
    const std::string step = "journaling order " + order.url + (key ? " and the certificate key" : "");
    if (auto j = journal_step(store_, journal_, step); !j) return std::unexpected(j.error());
    if (auto f = fault("engine.order.after_new_order"); !f) return std::unexpected(f.error());
    if (key)
      if (auto f = fault("engine.order.after_key"); !f) return std::unexpected(f.error());
    return key;
  }

  Result<void> keyed(const protocol::PrivateKey& key) override {
    auto pem = key.to_pem();
    if (!pem) return std::unexpected(pem.error());
    journal_.key_pem = std::move(*pem);
    if (auto j = journal_step(store_, journal_, "journaling the certificate key"); !j) return j;
    return fault("engine.order.after_key");
  }

  Result<void> reached(Step step) override {
    switch (step) {
      case Step::BeforeFinalize: return fault("engine.order.before_finalize");
      case Step::AfterFinalize: return fault("engine.order.after_finalize");
      case Step::AfterDownload: return fault("engine.order.after_download");
    }
    return ok();
  }

 private:
  static Result<void> fault(const char* point) {
    if (fault_point(point)) return fail(ErrorKind::Storage, std::string("injected fault at ") + point);
    return ok();
  }
  const CaAccess* ca_;
  const OrderRequest& req_;
  const Store& store_;  // the journal's writes: SharedStore::unlocked()
  SharedStore* shared_;
  OrderJournal journal_;
};

// An RSA key starts at once on another thread and is not waited for until
// finalize: newOrder and the authorizations go first. An order that is still
// being worked on by the CA after this long (or whose Retry-After says longer) is
// handed back: it stays journaled, the pass moves on, and the next attempt resumes it.
constexpr std::chrono::seconds kHandBackAfter{10};

protocol::IssueRequest issue_request(const CaAccess* ca, const OrderRequest& req) {
  protocol::IssueRequest r;
  r.names = req.names;
  r.key_type = to_protocol_key(req.key);
  r.replaces = req.replaces;
  r.profile = req.profile;
  if (ca) r.preferred_chain = ca->preferred_chain;
  r.issuance.hand_back_after = kHandBackAfter;
  r.authorize.poll = r.issuance;
  r.label = req.certificate_id;
  r.ask_again_after_server_internal = true;
  return r;
}

void note_directory(const CaAccess& ca, protocol::AcmeSession& session, const OrderRequest& req,
                    const StoreWriter& store, const protocol::Clock& clock) {
  const CaDirectoryNote note{ca.directory_url, session.directory().renewal_info,
                             std::chrono::floor<Seconds>(clock.now())};
  if (auto noted = note_ca_directory(store, note); !noted)
    module_logger("engine")->warn("{}: {}", req.certificate_id, noted.error().message);
}

}  // namespace

Result<protocol::PlacedOrder> place_order(protocol::AcmeSession& session, const OrderRequest& req,
                                          const Store& store, const ReadyKey& ready_key) {
  StoreJournal journal(nullptr, req, store, nullptr);
  return protocol::place_order(session, issue_request(nullptr, req), &journal, ready_key);
}

Result<protocol::IssuedCertificate> order_certificate(const CaAccess& ca, const OrderRequest& req,
                                                      protocol::AcmeSession& session, SharedStore& store,
                                                      protocol::ChallengeSolver& solver, const protocol::Clock& clock) {
  note_directory(ca, session, req, store.lock(), clock);
  StoreJournal journal(&ca, req, store.unlocked(), &store);
  return protocol::issue_certificate(session, issue_request(&ca, req), solver, &journal);
}

}  // namespace certagent::agent
