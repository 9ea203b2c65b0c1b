#include "agent/engine/work.hpp"

#include <fmt/format.h>

#include "agent/store/logging.hpp"
#include "agent/store/order_journal.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::agent {

std::vector<std::string> plain_names(const std::vector<policy::RequiredName>& names) {
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const auto& n : names) out.push_back(n.name);
  return out;
}

namespace {

// The key and chain as the order left them (already checked by verify_issued):
// nothing is decoded again.
Result<StoredVersion> store_issued(EngineContext& ctx, const protocol::IssuedCertificate& issued, CertificateMeta meta,
                                   const std::string& certificate_id) {
  const StoreWriter store = ctx.store->lock();
  auto id = store->add_version(*issued.key, issued.chain.certificates, std::move(meta));
  if (!id) return std::unexpected(id.error().context("storing " + certificate_id + " from order " + issued.order_url));
  // add_version read the files back and compared them with the bytes it checked; binding
  // verifies the version again (Store::bind), so here its metadata is enough.
  auto stored = store->load_version(*id);
  if (!stored) return std::unexpected(stored.error().context("loading the stored " + certificate_id));
  return stored;
}

}  // namespace

Result<StoredVersion> obtain_version(EngineContext& ctx, protocol::AcmeSession& session, const OrderRequest& req) {
  const std::string& certificate_id = req.certificate_id;
  const std::string what = fmt::format("ordering certificate {} ({} names{})", certificate_id, req.names.size(),
                                       req.profile.empty() ? "" : ", profile " + req.profile);
  auto issued = order_certificate(*ctx.ca, req, session, *ctx.store, *ctx.solver, *ctx.clock);
  if (!issued) return std::unexpected(issued.error().context(what));
  CertificateMeta meta;
  meta.certificate_id = certificate_id;
  meta.order_url = issued->order_url;
  meta.key_type = std::string(policy::to_string(req.key));
  meta.profile = req.profile;
  auto stored = store_issued(ctx, *issued, std::move(meta), certificate_id);
  if (!stored) return stored;
  // Without a StoreWriter, as every journal write and removal (agent/engine/order.cpp says why).
  if (auto removed = remove_order_journal(ctx.store->unlocked(), certificate_id); !removed)
    module_logger("engine")->warn("{}: {}", certificate_id, removed.error().message);
  module_logger("engine")->info("{}: stored version {} (thumbprint {}, order {})", certificate_id, stored->id,
                                stored->meta.thumbprint, issued->order_url);
  return stored;
}

Result<std::vector<RebindOutcome>> bind_version(EngineContext& ctx, const std::vector<std::string>& purposes,
                                                const std::string& version_id, Store::LiveSync unowed) {
  const StoreWriter store = ctx.store->lock();
  auto outcomes = rebind(*store, purposes, version_id, ctx.consumers, unowed);
  if (!outcomes) return std::unexpected(outcomes.error().context("binding version " + version_id));
  std::vector<std::string> failed;
  for (const auto& o : *outcomes)
    if (!o.succeeded())
      failed.push_back(fmt::format("{} ({}{})", o.purpose, o.failure->message,
                                   o.rolled_back ? "; rolled back to the previous certificate" : ""));
  if (!failed.empty())
    return fail(ErrorKind::Hook, fmt::format("binding version {} failed for {}", version_id, fmt::join(failed, ", ")));
  return outcomes;
}

}  // namespace certagent::agent
