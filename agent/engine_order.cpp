// order_certificate (agent/engine_acme.hpp): RFC 8555 §7.4 step by step, so
// that an order journaled before a crash can be picked up where it stopped.
#include <fmt/format.h>

#include <future>
#include <span>
#include <system_error>

#include "agent/engine_acme.hpp"
#include "agent/fault.hpp"
#include "agent/logging.hpp"
#include "agent/order_journal.hpp"
#include "protocol/acme_finalize.hpp"
#include "protocol/csr.hpp"

namespace certagent::agent {
namespace {

using protocol::Order;
using KeyPtr = std::shared_ptr<const protocol::PrivateKey>;

using KeyFuture = std::future<Result<protocol::PrivateKey>>;

struct InFlight {
  Order order;
  KeyPtr key;          // known: a resumed order's, or a new order's once generated and journaled
  KeyFuture pending;   // a new order's key while it is being generated
};

// An RSA key takes 0.05–1 s: generated on another thread while the order is
// placed and authorized. An EC key takes well under a millisecond: generated
// when it is needed, on this thread.
KeyFuture start_key_generation(policy::KeyType type) {
  const auto t = to_protocol_key(type);
  const bool rsa = t == protocol::KeyType::Rsa2048 || t == protocol::KeyType::Rsa3072 || t == protocol::KeyType::Rsa4096;
  try {
    return std::async(rsa ? std::launch::async : std::launch::deferred, [t] { return protocol::PrivateKey::generate(t); });
  } catch (const std::system_error&) {  // no thread to be had: generate it here
    return std::async(std::launch::deferred, [t] { return protocol::PrivateKey::generate(t); });
  }
}

void drop_journal(Store& store, std::mutex& m, const std::string& id, const std::string& why) {
  module_logger("engine")->warn("{}: not resuming the journaled order: {}", id, why);
  std::lock_guard lock(m);
  if (auto r = remove_order_journal(store, id); !r) module_logger("engine")->error("{}: {}", id, r.error().message);
}

// The journaled order when the CA still has it for the same names and it can still succeed.
std::optional<InFlight> resume(protocol::AcmeSession& session, const OrderRequest& req, Store& store, std::mutex& m) {
  auto journal = read_order_journal(store.dir(), req.certificate_id);
  if (!journal) return drop_journal(store, m, req.certificate_id, journal.error().message), std::nullopt;
  if (!*journal) return std::nullopt;
  if (protocol::normalized_names((*journal)->names) != protocol::normalized_names(req.names))
    return drop_journal(store, m, req.certificate_id, "the required names changed"), std::nullopt;
  auto order = protocol::fetch_order(session, (*journal)->order_url);
  if (!order) return drop_journal(store, m, req.certificate_id, order.error().message), std::nullopt;
  if (order->status == "invalid")
    return drop_journal(store, m, req.certificate_id, "the CA says the order is invalid"), std::nullopt;
  auto key = protocol::PrivateKey::from_pem((*journal)->key_pem);
  if (!key) return drop_journal(store, m, req.certificate_id, key.error().message), std::nullopt;
  module_logger("engine")->info("{}: resuming order {} ({})", req.certificate_id, order->url, order->status);
  return InFlight{std::move(*order), std::make_shared<const protocol::PrivateKey>(std::move(*key)), {}};
}

Result<InFlight> place(protocol::AcmeSession& session, const CaAccess& ca, const OrderRequest& req) {
  KeyFuture pending = start_key_generation(req.key);
  auto order = protocol::new_order(session, protocol::NewOrder{req.names, "", ca.profile});
  if (!order) return std::unexpected(order.error());
  return InFlight{std::move(*order), nullptr, std::move(pending)};
}

// A new order's key, once generated, journaled with the order (so that a
// crash from here on resumes this order with this key).
Result<void> settle_key(InFlight& f, const OrderRequest& req, Store& store, std::mutex& m) {
  if (f.key) return ok();
  auto key = f.pending.get();
  if (!key) return std::unexpected(key.error().context("generating the certificate key"));
  auto pem = key->to_pem();
  if (!pem) return std::unexpected(pem.error());
  std::lock_guard lock(m);
  if (auto j = write_order_journal(store, OrderJournal{req.certificate_id, f.order.url, req.names, *pem}); !j)
    return std::unexpected(j.error().context("journaling order " + f.order.url));
  f.key = std::make_shared<const protocol::PrivateKey>(std::move(*key));
  return ok();
}

// pending -> ready -> (finalize) processing -> valid.
Result<Order> drive_to_valid(protocol::AcmeSession& session, InFlight& f, const OrderRequest& req, Store& store,
                             std::mutex& m, protocol::ChallengeSolver& solver) {
  const protocol::PollPolicy poll{};
  Order order = f.order;
  if (order.status == "pending") {
    auto authorized = protocol::authorize_order(session, order, solver, protocol::AuthorizeOptions{poll});
    if (!authorized) return authorized;
    order = std::move(*authorized);
  }
  if (order.status != "ready" && order.status != "processing" && order.status != "valid")
    return fail(ErrorKind::Rejected, fmt::format("order {} is {}", order.url, order.status));
  if (auto settled = settle_key(f, req, store, m); !settled) return std::unexpected(settled.error());
  if (order.status == "ready") {
    if (fault_point("engine.order.before_finalize"))
      return fail(ErrorKind::Storage, "injected fault at engine.order.before_finalize");
    auto csr = protocol::make_csr(req.names, *f.key);
    if (!csr) return std::unexpected(csr.error().context("building the CSR"));
    return protocol::finalize_order(session, order, csr->der, poll);
  }
  if (order.status == "processing") return protocol::poll_while_processing(session, std::move(order), poll);
  return order;  // valid
}

}  // namespace

Result<protocol::IssuedCertificate> order_certificate(const CaAccess& ca, const OrderRequest& req,
                                                      protocol::AcmeSession& session, Store& store,
                                                      std::mutex& store_mutex, protocol::ChallengeSolver& solver,
                                                      const protocol::Clock& clock) {
  auto inflight = resume(session, req, store, store_mutex);
  if (!inflight) {
    auto placed = place(session, ca, req);
    if (!placed) return std::unexpected(placed.error());
    inflight = std::move(*placed);
  }
  auto valid = drive_to_valid(session, *inflight, req, store, store_mutex, solver);
  if (!valid) return std::unexpected(valid.error());
  auto chain = protocol::download_preferred_chain(session, valid->certificate, ca.preferred_chain);
  if (!chain) return std::unexpected(chain.error());
  if (auto checked = protocol::verify_issued(*chain, *inflight->key, req.names, clock.now()); !checked)
    return std::unexpected(checked.error());
  return protocol::assemble_issued_certificate(inflight->key, std::move(*chain), valid->url);
}

}  // namespace certagent::agent
