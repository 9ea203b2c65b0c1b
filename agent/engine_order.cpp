// order_certificate (agent/engine_acme.hpp): RFC 8555 §7.4 step by step, each
// step journaled (agent/order_journal.hpp) before the CA can act on it, so that
// an order interrupted at any point is picked up where it stopped and never
// placed twice.
#include <fmt/format.h>

#include <functional>
#include <future>

#include "agent/engine_acme.hpp"
#include "agent/engine_ari.hpp"
#include "agent/fault.hpp"
#include "agent/logging.hpp"
#include "agent/order_journal.hpp"
#include "agent/order_lookup.hpp"
#include "protocol/acme_finalize.hpp"
#include "protocol/csr.hpp"

namespace certagent::agent {
namespace {

using protocol::Order;
using KeyPtr = std::shared_ptr<const protocol::PrivateKey>;

struct InFlight {
  Order order;
  OrderJournal journal;
  KeyPtr key;  // null until generated and journaled (no CSR sent yet)
};

Result<void> journal_step(Store& store, std::mutex& m, const OrderJournal& j, const std::string& step) {
  std::lock_guard lock(m);
  if (auto w = write_order_journal(store, j); !w) return std::unexpected(w.error().context(step));
  return ok();
}

void drop_journal(Store& store, std::mutex& m, const std::string& id, const std::string& why) {
  module_logger("engine")->warn("{}: not resuming the journaled order: {}", id, why);
  std::lock_guard lock(m);
  if (auto r = remove_order_journal(store, id); !r) module_logger("engine")->error("{}: {}", id, r.error().message);
}

// Only the intent was journaled: the order a killed run placed, from the account's orders list.
std::optional<InFlight> look_up(protocol::AcmeSession& session, OrderJournal journal, Store& store, std::mutex& m) {
  const auto& id = journal.certificate_id;
  if (journal.account_url != session.account().url) {
    module_logger("engine")->info("{}: the journaled intent was for another account; placing a new order", id);
    return std::nullopt;
  }
  const OrderIntent intent{journal.names, journal.profile,
                           protocol::TimePoint(std::chrono::seconds(journal.intent_time))};
  auto found = find_intended_order(session, intent);
  if (!found) {
    module_logger("engine")->warn("{}: could not look up the order placed before an interruption ({}); "
                                  "placing a new one", id, found.error().message);
    return std::nullopt;
  }
  if (!found->order) {
    module_logger("engine")->info("{}: no order for the journaled intent among the {} listed ({} read); placing one",
                                  id, found->listed, found->fetched);
    return std::nullopt;
  }
  journal.order_url = found->order->url;
  if (auto j = journal_step(store, m, journal, "journaling the order found in the account's list"); !j) {
    module_logger("engine")->warn("{}: {}", id, j.error().message);
    return std::nullopt;
  }
  module_logger("engine")->info("{}: resuming order {} ({}), found in the account's orders list", id,
                                found->order->url, found->order->status);
  return InFlight{std::move(*found->order), std::move(journal), nullptr};
}

// The journaled order when the CA still has it for the same names and it can still succeed.
std::optional<InFlight> resume(protocol::AcmeSession& session, const OrderRequest& req, Store& store, std::mutex& m) {
  auto journal = read_order_journal(store.dir(), req.certificate_id);
  if (!journal) return drop_journal(store, m, req.certificate_id, journal.error().message), std::nullopt;
  if (!*journal) return std::nullopt;
  if (protocol::normalized_names((*journal)->names) != protocol::normalized_names(req.names))
    return drop_journal(store, m, req.certificate_id, "the required names changed"), std::nullopt;
  if ((*journal)->order_url.empty()) return look_up(session, std::move(**journal), store, m);
  auto order = protocol::fetch_order(session, (*journal)->order_url);
  if (!order) return drop_journal(store, m, req.certificate_id, order.error().message), std::nullopt;
  if (order->status == "invalid")
    return drop_journal(store, m, req.certificate_id, "the CA says the order is invalid"), std::nullopt;
  KeyPtr key;
  if (!(*journal)->key_pem.empty()) {
    auto parsed = protocol::PrivateKey::from_pem((*journal)->key_pem);
    if (!parsed) return drop_journal(store, m, req.certificate_id, parsed.error().message), std::nullopt;
    key = std::make_shared<const protocol::PrivateKey>(std::move(*parsed));
  } else if (order->status == "processing" || order->status == "valid") {
    return drop_journal(store, m, req.certificate_id, "the order was finalized with a key no journal holds"),
           std::nullopt;
  }
  module_logger("engine")->info("{}: resuming order {} ({})", req.certificate_id, order->url, order->status);
  return InFlight{std::move(*order), std::move(**journal), std::move(key)};
}

Result<Order> new_order(protocol::AcmeSession& session, const CaAccess& ca, const OrderRequest& req) {
  auto order = protocol::new_order(session, protocol::NewOrder{req.names, req.replaces, ca.profile});
  if (!order && !req.replaces.empty() && !session.directory().renewal_info.empty() &&
      order.error().kind != ErrorKind::Transport && order.error().kind != ErrorKind::Cancelled &&
      !is_lost_account(order.error())) {
    module_logger("engine")->warn("{}: the CA refused the order replacing {} ({}); ordering without `replaces`",
                                  req.certificate_id, req.replaces, order.error().message);
    order = protocol::new_order(session, protocol::NewOrder{req.names, "", ca.profile});
  }
  return order;
}

// The CA answered newOrder with a refusal (a problem document other than
// serverInternal): it created no order, and the intent is void.
bool refused_outright(const Error& e) {
  return !e.problem_type.empty() && e.problem_type != "urn:ietf:params:acme:error:serverInternal";
}

}  // namespace

Result<PlacedOrder> place_order(protocol::AcmeSession& session, const CaAccess& ca, const OrderRequest& req,
                                Store& store, std::mutex& m) {
  const auto now = std::chrono::floor<std::chrono::seconds>(session.clock().now());
  OrderJournal journal{req.certificate_id, "",         req.names, "", ca.profile, session.account().url,
                       now.time_since_epoch().count()};
  // The intent first: killed after newOrder but before its URL is journaled,
  // the next run finds the order in the account's orders list.
  if (auto j = journal_step(store, m, journal, "journaling the intent to order"); !j) return std::unexpected(j.error());
  if (fault_point("engine.order.after_intent"))
    return fail(ErrorKind::Storage, "injected fault at engine.order.after_intent");
  auto order = new_order(session, ca, req);
  if (!order && refused_outright(order.error())) {
    std::lock_guard lock(m);
    if (auto r = remove_order_journal(store, req.certificate_id); !r)
      module_logger("engine")->error("{}: {}", req.certificate_id, r.error().message);
  }
  if (!order) return std::unexpected(order.error());  // else the CA may hold it: the intent stays
  journal.order_url = order->url;
  if (auto j = journal_step(store, m, journal, "journaling order " + order->url); !j) return std::unexpected(j.error());
  if (fault_point("engine.order.after_new_order"))
    return fail(ErrorKind::Storage, "injected fault at engine.order.after_new_order");
  return PlacedOrder{std::move(*order), std::move(journal)};
}

namespace {

// The certificate key of an order not finalized yet: an RSA key is generated on
// another thread while the authorizations are answered (an EC key takes well
// under a millisecond and is generated when needed); either is journaled
// (0600) before the CSR made from it is sent.
class PendingKey {
 public:
  explicit PendingKey(policy::KeyType type)
      : type_(type), future_(std::async(is_rsa(type) ? std::launch::async : std::launch::deferred, [type] {
          const auto start = std::chrono::steady_clock::now();
          auto key = protocol::PrivateKey::generate(to_protocol_key(type));
          return Generated{std::move(key), std::chrono::steady_clock::now() - start};
        })) {}

  Result<KeyPtr> journaled(InFlight& f, Store& store, std::mutex& m) {
    const auto waiting = std::chrono::steady_clock::now();
    auto generated = future_.get();
    const auto waited = std::chrono::steady_clock::now() - waiting;
    if (!generated.key) return std::unexpected(generated.key.error().context("generating the certificate key"));
    if (is_rsa(type_))  // how much of the key's time the authorizations did not hide
      module_logger("engine")->debug("{}: certificate key generated in {} ms, {} ms of it waited for before finalize",
                                     f.journal.certificate_id, as_ms(generated.took), as_ms(waited));
    auto pem = generated.key->to_pem();
    if (!pem) return std::unexpected(pem.error());
    f.journal.key_pem = std::move(*pem);
    if (auto j = journal_step(store, m, f.journal, "journaling the certificate key"); !j)
      return std::unexpected(j.error());
    if (fault_point("engine.order.after_key"))
      return fail(ErrorKind::Storage, "injected fault at engine.order.after_key");
    f.key = std::make_shared<const protocol::PrivateKey>(std::move(*generated.key));
    return f.key;
  }

 private:
  struct Generated {
    Result<protocol::PrivateKey> key;
    std::chrono::steady_clock::duration took;
  };
  static bool is_rsa(policy::KeyType t) {
    return t == policy::KeyType::Rsa2048 || t == policy::KeyType::Rsa3072 || t == policy::KeyType::Rsa4096;
  }
  static long long as_ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  }
  policy::KeyType type_;
  std::future<Generated> future_;
};

using KeySource = std::function<Result<KeyPtr>()>;

// pending -> ready -> (finalize) processing -> valid.
Result<Order> drive_to_valid(protocol::AcmeSession& session, Order order, const KeySource& key,
                             const std::vector<std::string>& names, protocol::ChallengeSolver& solver) {
  const protocol::PollPolicy poll{};
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
  note_directory(ca, session, req, store, store_mutex, clock);
  auto inflight = resume(session, req, store, store_mutex);
  if (!inflight) {
    auto placed = place_order(session, ca, req, store, store_mutex);
    if (!placed) return std::unexpected(placed.error());
    inflight = InFlight{std::move(placed->order), std::move(placed->journal), nullptr};
  }
  const KeySource key = [&]() -> Result<KeyPtr> {
    if (inflight->key) return inflight->key;
    return pending.journaled(*inflight, store, store_mutex);
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
