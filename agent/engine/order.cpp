// order_certificate (agent/engine/acme.hpp): RFC 8555 §7.4 step by step, each
// step journaled (agent/store/order_journal.hpp) before the CA can act on it, so that
// an order interrupted at any point is picked up where it stopped and never
// placed twice.
#include <fmt/format.h>

#include <functional>
#include <future>

#include "agent/engine/acme.hpp"
#include "agent/engine/ari.hpp"
#include "agent/store/fault.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/order_journal.hpp"
#include "agent/engine/order_lookup.hpp"
#include "protocol/acme/finalize.hpp"
#include "protocol/x509/csr.hpp"

namespace certagent::agent {
namespace {

using protocol::Order;
using KeyPtr = std::shared_ptr<const protocol::PrivateKey>;

struct InFlight {
  Order order;
  OrderJournal journal;
  KeyPtr key;  // null until generated and journaled (no CSR sent yet)
};

// Journal writes and removals do not take the store mutex, so the fsyncs of
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
Result<void> journal_step(Store& store, const OrderJournal& j, const std::string& step) {
  if (auto w = write_order_journal(store, j); !w) return std::unexpected(w.error().context(step));
  return ok();
}

void drop_journal(Store& store, const std::string& id, const std::string& why) {
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
// Account records (accounts/) are written under the store mutex (agent/engine/acme.hpp).
struct StoreAccess {
  Store& store;
  std::mutex& mutex;
};

std::optional<InFlight> look_up(protocol::AcmeSession& session, const CaAccess& ca, OrderJournal journal,
                                StoreAccess sa, const ReadyKey& ready_key) {
  Store& store = sa.store;
  const auto& id = journal.certificate_id;
  if (journal.account_url != session.account().url) {
    module_logger("engine")->info("{}: the journaled intent was for another account; placing a new order", id);
    return std::nullopt;
  }
  if (std::lock_guard lock(sa.mutex); orders_list_unusable(store, ca.directory_url)) {
    module_logger("engine")->info("{}: the CA's orders list is not read (it was not shaped as RFC 8555 says); "
                                  "placing a new order", id);
    return std::nullopt;
  }
  const OrderIntent intent{journal.names, journal.profile,
                           protocol::TimePoint(std::chrono::seconds(journal.intent_time))};
  auto found = find_intended_order(session, intent);
  if (!found) {
    module_logger("engine")->warn("{}: could not look up the order placed before an interruption ({}); "
                                  "placing a new one", id, found.error().message);
    if (found.error().kind == ErrorKind::Protocol) {
      std::lock_guard lock(sa.mutex);
      mark_orders_list_unusable(store, ca.directory_url, found.error().message);
    }
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
                               StoreAccess sa, const ReadyKey& ready_key) {
  Store& store = sa.store;
  auto journal = read_order_journal(store, req.certificate_id);
  if (!journal) return drop_journal(store, req.certificate_id, journal.error().message), std::nullopt;
  if (!*journal) return std::nullopt;
  if (protocol::normalized_names((*journal)->names) != protocol::normalized_names(req.names))
    return drop_journal(store, req.certificate_id, "the required names changed"), std::nullopt;
  if ((*journal)->order_url.empty()) return look_up(session, ca, std::move(**journal), sa, ready_key);
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

Result<Order> new_order(protocol::AcmeSession& session, const OrderRequest& req) {
  auto order = protocol::new_order(session, protocol::NewOrder{req.names, req.replaces, req.profile});
  if (!order && !req.replaces.empty() && !session.directory().renewal_info.empty() &&
      order.error().kind != ErrorKind::Transport && order.error().kind != ErrorKind::Cancelled &&
      !is_lost_account(order.error())) {
    module_logger("engine")->warn("{}: the CA refused the order replacing {} ({}); ordering without `replaces`",
                                  req.certificate_id, req.replaces, order.error().message);
    order = protocol::new_order(session, protocol::NewOrder{req.names, "", req.profile});
  }
  // A CA that refuses an order for its size says so in a rejectedIdentifier or malformed
  // problem; the operator's fix is in the policy.
  if (!order && req.names.size() > 1 &&
      (order.error().problem_type == "urn:ietf:params:acme:error:rejectedIdentifier" ||
       order.error().problem_type == "urn:ietf:params:acme:error:malformed"))
    order.error().message += fmt::format(
        " (the order asked for {} names on one certificate: if the CA limits that, set ca.max_names to its limit, "
        "and list the Autodiscover domains (\"autodiscover\": [...] on the role) or use separate certificates)",
        req.names.size());
  return order;
}

bool server_internal(const Result<Order>& r) {
  return !r && r.error().problem_type == "urn:ietf:params:acme:error:serverInternal";
}

// newOrder again after a serverInternal, once, if the CA still reads the account: a second
// serverInternal then says the account, not the CA, is broken (is_account_unable_to_order).
Result<Order> new_order_again(protocol::AcmeSession& session, const OrderRequest& req,
                              Result<Order> first) {
  if (!server_internal(first)) return first;
  auto account = session.post_as_get(session.account().url, "reading the account " + session.account().url);
  if (!account) return first;
  module_logger("engine")->info("{}: newOrder answered serverInternal ({}); the account reads fine; asking once more",
                                req.certificate_id, first.error().message);
  auto again = new_order(session, req);
  if (server_internal(again)) return std::unexpected(account_unable_to_order(std::move(again.error())));
  return again;
}

// The CA answered newOrder with a refusal (a problem document other than
// serverInternal): it created no order, and the intent is void.
bool refused_outright(const Error& e) {
  return !e.problem_type.empty() && e.problem_type != "urn:ietf:params:acme:error:serverInternal";
}

}  // namespace

Result<PlacedOrder> place_order(protocol::AcmeSession& session, const OrderRequest& req,
                                Store& store, const ReadyKey& ready_key) {
  const auto now = std::chrono::floor<std::chrono::seconds>(session.clock().now());
  OrderJournal journal{req.certificate_id, "",         req.names, "", req.profile, session.account().url,
                       now.time_since_epoch().count()};
  // The intent first: killed after newOrder but before its URL is journaled,
  // the next run finds the order in the account's orders list.
  if (auto j = journal_step(store, journal, "journaling the intent to order"); !j) return std::unexpected(j.error());
  if (fault_point("engine.order.after_intent"))
    return fail(ErrorKind::Storage, "injected fault at engine.order.after_intent");
  auto order = new_order_again(session, req, new_order(session, req));
  if (!order && refused_outright(order.error())) {
    if (auto r = remove_order_journal(store, req.certificate_id); !r)
      module_logger("engine")->error("{}: {}", req.certificate_id, r.error().message);
  }
  if (!order) return std::unexpected(order.error());  // else the CA may hold it: the intent stays
  journal.order_url = order->url;
  // With the key when it is there without waiting (an EC key; an RSA key whose
  // thread has finished): one journal write instead of two, and the key is
  // durable before any CSR is made from it all the same.
  KeyPtr key = attach_ready_key(journal, ready_key);
  const std::string step = "journaling order " + order->url + (key ? " and the certificate key" : "");
  if (auto j = journal_step(store, journal, step); !j) return std::unexpected(j.error());
  if (fault_point("engine.order.after_new_order"))
    return fail(ErrorKind::Storage, "injected fault at engine.order.after_new_order");
  if (key && fault_point("engine.order.after_key"))
    return fail(ErrorKind::Storage, "injected fault at engine.order.after_key");
  return PlacedOrder{std::move(*order), std::move(journal), std::move(key)};
}

namespace {

// The certificate key of an order not finalized yet: an RSA key is generated on
// another thread while the authorizations are answered (an EC key takes well
// under a millisecond and is generated when needed); either is journaled
// (0600) before the CSR made from it is sent — with the order's URL when it is
// there by then (ready_now), else on its own before finalize (journaled).
// Used by one thread, the one working the order.
class PendingKey {
 public:
  explicit PendingKey(policy::KeyType type)
      : type_(type), future_(std::async(is_rsa(type) ? std::launch::async : std::launch::deferred, [type] {
          const auto start = std::chrono::steady_clock::now();
          auto key = protocol::PrivateKey::generate(to_protocol_key(type));
          return Generated{std::move(key), std::chrono::steady_clock::now() - start};
        })) {}

  // The key without waiting: an EC key is generated now, an RSA key only if
  // its thread has finished. Null otherwise, or when generating it failed
  // (journaled() says why).
  KeyPtr ready_now() {
    if (!key_ && is_rsa(type_) && future_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      return nullptr;
    const auto& key = take();
    return key ? *key : nullptr;
  }

  // The key, waited for, journaled in f.journal on its own (the separate step).
  Result<KeyPtr> journaled(InFlight& f, Store& store) {
    const auto waiting = std::chrono::steady_clock::now();
    const auto& key = take();
    const auto waited = std::chrono::steady_clock::now() - waiting;
    if (!key) return std::unexpected(key.error().context("generating the certificate key"));
    if (is_rsa(type_))  // how much of the key's time the authorizations did not hide
      module_logger("engine")->debug("{}: certificate key generated in {} ms, {} ms of it waited for before finalize",
                                     f.journal.certificate_id, as_ms(took_), as_ms(waited));
    auto pem = (*key)->to_pem();
    if (!pem) return std::unexpected(pem.error());
    f.journal.key_pem = std::move(*pem);
    if (auto j = journal_step(store, f.journal, "journaling the certificate key"); !j)
      return std::unexpected(j.error());
    if (fault_point("engine.order.after_key"))
      return fail(ErrorKind::Storage, "injected fault at engine.order.after_key");
    f.key = *key;
    return f.key;
  }

 private:
  struct Generated {
    Result<protocol::PrivateKey> key;
    std::chrono::steady_clock::duration took;
  };
  // The generated key, waited for (an EC key: generated now) the first time.
  const Result<KeyPtr>& take() {
    if (!key_) {
      auto generated = future_.get();
      took_ = generated.took;
      if (generated.key) key_ = std::make_shared<const protocol::PrivateKey>(std::move(*generated.key));
      else key_ = std::unexpected(std::move(generated.key.error()));
    }
    return *key_;
  }
  static bool is_rsa(policy::KeyType t) {
    return t == policy::KeyType::Rsa2048 || t == policy::KeyType::Rsa3072 || t == policy::KeyType::Rsa4096;
  }
  static long long as_ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  }
  policy::KeyType type_;
  std::future<Generated> future_;
  std::optional<Result<KeyPtr>> key_;  // set once taken from future_
  std::chrono::steady_clock::duration took_{};
};

using KeySource = std::function<Result<KeyPtr>()>;

// pending -> ready -> (finalize) processing -> valid.
// An order the CA is still working on after this long (or whose Retry-After says longer) is
// handed back: it stays journaled, the pass moves on, and the next attempt resumes it.
constexpr std::chrono::seconds kHandBackAfter{10};

Result<Order> drive_to_valid(protocol::AcmeSession& session, Order order, const KeySource& key,
                             const std::vector<std::string>& names, protocol::ChallengeSolver& solver) {
  protocol::PollPolicy poll{};
  poll.hand_back_after = kHandBackAfter;
  if (order.status == "pending") {
    auto authorized = protocol::authorize_order(session, order, solver, protocol::AuthorizeOptions{poll});
    if (!authorized) return authorized;
    order = std::move(*authorized);
  }
  if (order.status == "ready") {
    auto k = key();
    if (!k) return std::unexpected(k.error());
    if (fault_point("engine.order.before_finalize"))
      return fail(ErrorKind::Storage, "injected fault at engine.order.before_finalize");
    auto csr = protocol::make_csr(names, **k);
    if (!csr) return std::unexpected(csr.error().context("building the CSR"));
    auto finalized = protocol::finalize_order(session, order, csr->der, poll);
    if (finalized && fault_point("engine.order.after_finalize"))
      return fail(ErrorKind::Storage, "injected fault at engine.order.after_finalize");
    return finalized;
  }
  if (order.status == "processing") return protocol::poll_while_processing(session, std::move(order), poll);
  if (order.status == "valid") return order;
  return fail(ErrorKind::Rejected, fmt::format("order {} is {}", order.url, order.status));
}

void note_directory(const CaAccess& ca, protocol::AcmeSession& session, const OrderRequest& req, Store& store,
                    std::mutex& m, const protocol::Clock& clock) {
  std::lock_guard lock(m);
  const CaDirectoryNote note{ca.directory_url, session.directory().renewal_info,
                             std::chrono::floor<Seconds>(clock.now())};
  if (auto noted = note_ca_directory(store, note); !noted)
    module_logger("engine")->warn("{}: {}", req.certificate_id, noted.error().message);
}

}  // namespace

Result<protocol::IssuedCertificate> order_certificate(const CaAccess& ca, const OrderRequest& req,
                                                      protocol::AcmeSession& session, Store& store,
                                                      std::mutex& store_mutex, protocol::ChallengeSolver& solver,
                                                      const protocol::Clock& clock) {
  // An RSA key starts now on another thread and is not waited for until
  // finalize: newOrder and the authorizations go first. (A resumed order that
  // journaled its key already does not use it.)
  PendingKey pending(req.key);
  const ReadyKey ready_key = [&pending] { return pending.ready_now(); };
  note_directory(ca, session, req, store, store_mutex, clock);
  auto inflight = resume(session, ca, req, StoreAccess{store, store_mutex}, ready_key);
  if (!inflight) {
    auto placed = place_order(session, req, store, ready_key);
    if (!placed) return std::unexpected(placed.error());
    inflight = InFlight{std::move(placed->order), std::move(placed->journal), std::move(placed->key)};
  }
  const KeySource key = [&]() -> Result<KeyPtr> {
    if (inflight->key) return inflight->key;
    return pending.journaled(*inflight, store);
  };
  auto valid = drive_to_valid(session, inflight->order, key, req.names, solver);
  if (!valid) return std::unexpected(valid.error());
  if (!inflight->key) return fail(ErrorKind::Protocol, "order " + valid->url + " is valid, but no key was journaled");
  auto chain = protocol::download_preferred_chain(session, valid->certificate, ca.preferred_chain);
  if (!chain) return std::unexpected(chain.error());
  if (auto checked = protocol::verify_issued(*chain, *inflight->key, req.names, clock.now()); !checked)
    return std::unexpected(checked.error());
  if (fault_point("engine.order.after_download"))
    return fail(ErrorKind::Storage, "injected fault at engine.order.after_download");
  return protocol::assemble_issued_certificate(inflight->key, std::move(*chain), valid->url);
}

}  // namespace certagent::agent
