#include "protocol/acme/issue.hpp"

#include <future>
#include <span>
#include <system_error>

#include "protocol/acme/finalize.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/x509/csr.hpp"

namespace certagent::protocol {
namespace {

using KeyFuture = std::future<Result<PrivateKey>>;

// Starts generating an RSA certificate key on another thread (it takes 0.05–1 s);
// an EC key (well under a millisecond) is generated here when it is needed, which
// spares a thread and its memory. Falls back to generating it here when no
// thread can be started.
KeyFuture start_key_generation(KeyType type) {
  const bool rsa = type == KeyType::Rsa2048 || type == KeyType::Rsa3072 || type == KeyType::Rsa4096;
  try {
    return std::async(rsa ? std::launch::async : std::launch::deferred, [type] { return PrivateKey::generate(type); });
  } catch (const std::system_error&) {
    std::promise<Result<PrivateKey>> now;
    now.set_value(PrivateKey::generate(type));
    return now.get_future();
  }
}

Result<std::shared_ptr<const PrivateKey>> certificate_key(const IssueRequest& request, KeyFuture& pending) {
  if (request.certificate_key) return request.certificate_key;
  auto key = pending.get();
  if (!key) return std::unexpected(std::move(key.error()).context("generating the certificate key"));
  return std::make_shared<const PrivateKey>(std::move(*key));
}

}  // namespace

Result<IssuedCertificate> assemble_issued_certificate(std::shared_ptr<const PrivateKey> key, CertificateChain chain, std::string order_url) {
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

Result<IssuedCertificate> issue_certificate(AcmeSession& session, const IssueRequest& request, ChallengeSolver& solver) {
  KeyFuture pending_key;
  if (!request.certificate_key) pending_key = start_key_generation(request.key_type);
  auto order = new_order(session, NewOrder{request.names, request.replaces, request.profile});
  if (!order) return std::unexpected(order.error());
  auto authorized = authorize_order(session, *order, solver, request.authorize);
  if (!authorized) return std::unexpected(authorized.error());
  auto key = certificate_key(request, pending_key);
  if (!key) return std::unexpected(key.error());
  auto csr = make_csr(request.names, **key);
  if (!csr) return std::unexpected(std::move(csr.error()).context("building the CSR"));
  acme_log().debug("order {} is {}; finalizing", authorized->url, authorized->status);
  auto valid = finalize_order(session, *authorized, csr->der, request.issuance);
  if (!valid) return std::unexpected(valid.error());
  acme_log().debug("order {} is valid; downloading {}", valid->url, valid->certificate);
  auto chain = download_preferred_chain(session, valid->certificate, request.preferred_chain);
  if (!chain) return std::unexpected(chain.error());
  std::vector<std::string> names;
  for (const auto& id : order->identifiers) names.push_back(id.value);
  if (auto checked = verify_issued(*chain, **key, names, session.clock().now()); !checked)
    return std::unexpected(checked.error());
  return assemble_issued_certificate(std::move(*key), std::move(*chain), order->url);
}

}  // namespace certagent::protocol
