#include "protocol/acme/issue.hpp"

#include <fmt/format.h>

#include <chrono>
#include <future>
#include <span>
#include <system_error>

#include "protocol/acme/finalize.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/x509/csr.hpp"

namespace certagent::protocol {
namespace {

constexpr std::string_view kCannotOrder = "the account can no longer order";

std::string label_of(const IssueRequest& request) {
  if (!request.label.empty()) return request.label;
  return request.names.empty() ? std::string("the certificate") : request.names.front();
}

bool is_rsa(KeyType t) { return t == KeyType::Rsa2048 || t == KeyType::Rsa3072 || t == KeyType::Rsa4096; }

long long as_ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// The certificate key of an order not finalized yet: an RSA key is generated on
// another thread while newOrder and the authorizations go on (0.05–1 s); an EC
// key (well under a millisecond) is generated here when it is needed, which
// spares a thread. Generated here too when no thread can be started. Used by
// one thread, the one working the order.
class PendingKey {
 public:
  explicit PendingKey(const IssueRequest& request) : type_(request.key_type) {
    if (request.certificate_key) {
      key_ = request.certificate_key;
      return;
    }
    auto generate = [type = type_] {
      const auto start = std::chrono::steady_clock::now();
      auto key = PrivateKey::generate(type);
      return Generated{std::move(key), std::chrono::steady_clock::now() - start};
    };
    try {
      future_ = std::async(is_rsa(type_) ? std::launch::async : std::launch::deferred, generate);
    } catch (const std::system_error&) {
      std::promise<Generated> now;
      now.set_value(generate());
      future_ = now.get_future();
    }
  }

  // The key without waiting: an EC key is generated now, an RSA key only if
  // its thread has finished. Null otherwise, or when generating it failed
  // (take() says why).
  KeyPtr ready_now() {
    if (!key_ && is_rsa(type_) && future_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      return nullptr;
    const auto& key = get();
    return key ? *key : nullptr;
  }

  // The key, waited for.
  Result<KeyPtr> take(const std::string& label) {
    const auto waiting = std::chrono::steady_clock::now();
    const bool generated_here = !key_;
    Result<KeyPtr> key = get();
    if (!key) return std::unexpected(key.error().context("generating the certificate key"));
    if (generated_here && is_rsa(type_))  // how much of the key's time the authorizations did not hide
      acme_log().debug("{}: certificate key generated in {} ms, {} ms of it waited for before finalize", label,
                       as_ms(took_), as_ms(std::chrono::steady_clock::now() - waiting));
    return key;
  }

 private:
  struct Generated {
    Result<PrivateKey> key;
    std::chrono::steady_clock::duration took;
  };
  const Result<KeyPtr>& get() {
    if (!key_) {
      auto generated = future_.get();
      took_ = generated.took;
      if (generated.key) key_ = std::make_shared<const PrivateKey>(std::move(*generated.key));
      else key_ = std::unexpected(std::move(generated.key.error()));
    }
    return *key_;
  }
  KeyType type_;
  std::future<Generated> future_;
  std::optional<Result<KeyPtr>> key_;  // set once taken from future_ (or given)
  std::chrono::steady_clock::duration took_{};
};

// newOrder, placed again without `replaces` when the CA refuses it for a reason
// that is not the network's or the account's (RFC 9773 §5: alreadyReplaced, ...).
Result<Order> new_order_once(AcmeSession& session, const IssueRequest& request) {
  auto order = new_order(session, NewOrder{request.names, request.replaces, request.profile});
  if (!order && !request.replaces.empty() && !session.directory().renewal_info.empty() &&
      order.error().kind != ErrorKind::Transport && order.error().kind != ErrorKind::Cancelled &&
      !is_lost_account(order.error())) {
    acme_log().warn("{}: the CA refused the order replacing {} ({}); ordering without `replaces`",
                    label_of(request), request.replaces, order.error().message);
    order = new_order(session, NewOrder{request.names, "", request.profile});
  }
  return order;
}

bool server_internal(const Result<Order>& r) {
  return !r && r.error().problem_type == "urn:ietf:params:acme:error:serverInternal";
}

// newOrder again after a serverInternal, once, if the CA still reads the account: a second
// serverInternal then says the account, not the CA, is broken (is_account_unable_to_order).
Result<Order> new_order_again(AcmeSession& session, const IssueRequest& request, Result<Order> first) {
  if (!request.ask_again_after_server_internal || !server_internal(first)) return first;
  auto account = session.post_as_get(session.account().url, "reading the account " + session.account().url);
  if (!account) return first;
  acme_log().info("{}: newOrder answered serverInternal ({}); the account reads fine; asking once more",
                  label_of(request), first.error().message);
  auto again = new_order_once(session, request);
  if (server_internal(again)) return std::unexpected(account_unable_to_order(std::move(again.error())));
  return again;
}

// The CA answered newOrder with a refusal (a problem document other than
// serverInternal): it created no order, and the intent is void.
bool refused_outright(const Error& e) {
  return !e.problem_type.empty() && e.problem_type != "urn:ietf:params:acme:error:serverInternal";
}

Result<void> reached(IssueJournal* journal, IssueJournal::Step step) {
  return journal ? journal->reached(step) : ok();
}

using KeySource = std::function<Result<KeyPtr>()>;

// pending -> ready -> (finalize) processing -> valid, from whichever state the order is in.
Result<Order> drive_to_valid(AcmeSession& session, Order order, const KeySource& key, const IssueRequest& request,
                             ChallengeSolver& solver, IssueJournal* journal) {
  if (order.status == "pending") {
    auto authorized = authorize_order(session, order, solver, request.authorize);
    if (!authorized) return authorized;
    order = std::move(*authorized);
  }
  if (order.status == "ready") {
    auto k = key();
    if (!k) return std::unexpected(k.error());
    if (auto r = reached(journal, IssueJournal::Step::BeforeFinalize); !r) return std::unexpected(r.error());
    auto csr = make_csr(request.names, **k);
    if (!csr) return std::unexpected(std::move(csr.error()).context("building the CSR"));
    acme_log().debug("order {} is {}; finalizing", order.url, order.status);
    auto finalized = finalize_order(session, order, csr->der, request.issuance);
    if (finalized)
      if (auto r = reached(journal, IssueJournal::Step::AfterFinalize); !r) return std::unexpected(r.error());
    return finalized;
  }
  if (order.status == "processing") return poll_while_processing(session, std::move(order), request.issuance);
  if (order.status == "valid") return order;
  return fail(ErrorKind::Rejected, fmt::format("order {} is {}", order.url, order.status));
}

Result<IssuedCertificate> issue_with(AcmeSession& session, const IssueRequest& request, ChallengeSolver& solver,
                                     IssueJournal* journal, PendingKey& pending) {
  const ReadyKey ready_key = [&pending] { return pending.ready_now(); };
  std::optional<PlacedOrder> inflight;
  if (journal) inflight = journal->resume(session, ready_key);
  if (!inflight) {
    auto placed = place_order(session, request, journal, ready_key);
    if (!placed) return std::unexpected(placed.error());
    inflight = std::move(*placed);
  }
  const KeySource key = [&]() -> Result<KeyPtr> {
    if (inflight->key) return inflight->key;
    auto k = pending.take(label_of(request));
    if (!k) return k;
    if (journal)
      if (auto j = journal->keyed(**k); !j) return std::unexpected(j.error());
    inflight->key = *k;
    return inflight->key;
  };
  auto valid = drive_to_valid(session, inflight->order, key, request, solver, journal);
  if (!valid) return std::unexpected(valid.error());
  if (!inflight->key) return fail(ErrorKind::Protocol, "order " + valid->url + " is valid, but no key was journaled");
  acme_log().debug("order {} is valid; downloading {}", valid->url, valid->certificate);
  auto chain = download_preferred_chain(session, valid->certificate, request.preferred_chain);
  if (!chain) return std::unexpected(chain.error());
  if (auto checked = verify_issued(*chain, *inflight->key, request.names, session.clock().now()); !checked)
    return std::unexpected(checked.error());
  if (auto r = reached(journal, IssueJournal::Step::AfterDownload); !r) return std::unexpected(r.error());
  return assemble_issued_certificate(inflight->key, std::move(*chain), valid->url);
}

}  // namespace

bool is_lost_account(const Error& e) { return e.problem_type == "urn:ietf:params:acme:error:accountDoesNotExist"; }

bool is_account_unable_to_order(const Error& e) {
  return e.problem_type == "urn:ietf:params:acme:error:serverInternal" &&
         e.message.find(kCannotOrder) != std::string::npos;
}

Error account_unable_to_order(Error e) {
  return std::move(e).context(std::string(kCannotOrder) + " (newOrder failed twice with serverInternal while the "
                              "CA answered the account)");
}

Result<IssuedCertificate> assemble_issued_certificate(KeyPtr key, CertificateChain chain, std::string order_url) {
  IssuedCertificate out{std::move(key), std::move(chain), std::move(order_url), "", "", ""};
  auto leaf = to_pem_chain(std::span(out.chain.certificates).first(1));
  auto rest = to_pem_chain(std::span(out.chain.certificates).subspan(1));
  if (!leaf) return std::unexpected(leaf.error());
  if (!rest) return std::unexpected(rest.error());
  out.certificate_pem = std::move(*leaf);
  out.chain_pem = std::move(*rest);
  out.fullchain_pem = out.certificate_pem + out.chain_pem;
  return out;
}

Result<PlacedOrder> place_order(AcmeSession& session, const IssueRequest& request, IssueJournal* journal,
                                const ReadyKey& ready_key) {
  // The intent first: killed after newOrder but before its URL is journaled,
  // the next run finds the order in the account's orders list.
  if (journal)
    if (auto j = journal->intend(session); !j) return std::unexpected(j.error());
  auto order = new_order_again(session, request, new_order_once(session, request));
  if (!order) {
    if (journal) journal->new_order_failed(order.error(), refused_outright(order.error()));
    return std::unexpected(order.error());  // unless refused outright, the CA may hold it: the intent stays
  }
  if (!journal) return PlacedOrder{std::move(*order), nullptr};
  // With the key when it is there without waiting (an EC key; an RSA key whose
  // thread has finished): one journal write instead of two, and the key is
  // durable before any CSR is made from it all the same.
  auto key = journal->placed(*order, ready_key ? ready_key : ReadyKey([] { return KeyPtr(); }));
  if (!key) return std::unexpected(key.error());
  return PlacedOrder{std::move(*order), std::move(*key)};
}

Result<IssuedCertificate> issue_certificate(AcmeSession& session, const IssueRequest& request, ChallengeSolver& solver,
                                            IssueJournal* journal) {
  PendingKey pending(request);
  return issue_with(session, request, solver, journal, pending);
}

}  // namespace certagent::protocol
