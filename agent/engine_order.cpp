// order_certificate (agent/engine_acme.hpp): RFC 8555 §7.4 step by step, so
// that an order journaled before a crash can be picked up where it stopped.
#include <fmt/format.h>

#include <span>

#include "agent/engine_acme.hpp"
#include "agent/engine_ari.hpp"
#include "agent/fault.hpp"
#include "agent/logging.hpp"
#include "agent/order_journal.hpp"
#include "protocol/acme_finalize.hpp"
#include "protocol/csr.hpp"

namespace certagent::agent {
namespace {

using protocol::Order;
using KeyPtr = std::shared_ptr<const protocol::PrivateKey>;

struct InFlight {
  Order order;
  KeyPtr key;
  bool resumed = false;
};

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
  return InFlight{std::move(*order), std::make_shared<const protocol::PrivateKey>(std::move(*key)), true};
}

}  // namespace

Result<PlacedOrder> place_order(protocol::AcmeSession& session, const CaAccess& ca, const OrderRequest& req,
                                Store& store, std::mutex& m) {
  auto key = protocol::PrivateKey::generate(to_protocol_key(req.key));
  if (!key) return std::unexpected(key.error().context("generating the certificate key"));
  if (fault_point("engine.order.after_key")) return fail(ErrorKind::Storage, "injected fault at engine.order.after_key");
  auto order = protocol::new_order(session, protocol::NewOrder{req.names, req.replaces, ca.profile});
  if (!order && !req.replaces.empty() && !session.directory().renewal_info.empty() &&
      order.error().kind != ErrorKind::Transport && order.error().kind != ErrorKind::Cancelled &&
      !is_lost_account(order.error())) {
    module_logger("engine")->warn("{}: the CA refused the order replacing {} ({}); ordering without `replaces`",
                                  req.certificate_id, req.replaces, order.error().message);
    order = protocol::new_order(session, protocol::NewOrder{req.names, "", ca.profile});
  }
  if (!order) return std::unexpected(order.error());
  auto pem = key->to_pem();
  if (!pem) return std::unexpected(pem.error());
  std::lock_guard lock(m);
  if (auto j = write_order_journal(store, OrderJournal{req.certificate_id, order->url, req.names, *pem}); !j)
    return std::unexpected(j.error().context("journaling order " + order->url));
  // After the CA created the order and the journal names it (a crash between
  // the two leaves an order the CA abandons; a new one is placed).
  if (fault_point("engine.order.after_new_order"))
    return fail(ErrorKind::Storage, "injected fault at engine.order.after_new_order");
  return PlacedOrder{std::move(*order), std::make_shared<const protocol::PrivateKey>(std::move(*key))};
}

namespace {

// pending -> ready -> (finalize) processing -> valid.
Result<Order> drive_to_valid(protocol::AcmeSession& session, Order order, const protocol::PrivateKey& key,
                             const std::vector<std::string>& names, protocol::ChallengeSolver& solver) {
  const protocol::PollPolicy poll{};
  if (order.status == "pending") {
    auto authorized = protocol::authorize_order(session, order, solver, protocol::AuthorizeOptions{poll});
    if (!authorized) return authorized;
    order = std::move(*authorized);
  }
  if (order.status == "ready") {
    if (fault_point("engine.order.before_finalize"))
      return fail(ErrorKind::Storage, "injected fault at engine.order.before_finalize");
    auto csr = protocol::make_csr(names, key);
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

}  // namespace

Result<protocol::IssuedCertificate> order_certificate(const CaAccess& ca, const OrderRequest& req,
                                                      protocol::AcmeSession& session, Store& store,
                                                      std::mutex& store_mutex, protocol::ChallengeSolver& solver,
                                                      const protocol::Clock& clock) {
  {
    std::lock_guard lock(store_mutex);
    const CaDirectoryNote note{ca.directory_url, session.directory().renewal_info,
                               std::chrono::floor<Seconds>(clock.now())};
    if (auto noted = note_ca_directory(store, note); !noted)
      module_logger("engine")->warn("{}: {}", req.certificate_id, noted.error().message);
  }
  auto inflight = resume(session, req, store, store_mutex);
  if (!inflight) {
    auto placed = place_order(session, ca, req, store, store_mutex);
    if (!placed) return std::unexpected(placed.error());
    inflight = InFlight{std::move(placed->order), std::move(placed->key), false};
  }
  auto valid = drive_to_valid(session, inflight->order, *inflight->key, req.names, solver);
  if (!valid) return std::unexpected(valid.error());
  auto chain = protocol::download_preferred_chain(session, valid->certificate, ca.preferred_chain);
  if (!chain) return std::unexpected(chain.error());
  if (auto checked = protocol::verify_issued(*chain, *inflight->key, req.names, clock.now()); !checked)
    return std::unexpected(checked.error());
  if (fault_point("engine.order.after_download"))
    return fail(ErrorKind::Storage, "injected fault at engine.order.after_download");
  return protocol::assemble_issued_certificate(inflight->key, std::move(*chain), valid->url);
}

}  // namespace certagent::agent
