#include "agent/engine/pool/election.hpp"

#include <fmt/format.h>

#include "agent/store/logging.hpp"

namespace certagent::agent {

PoolElection::PoolElection(protocol::EtcdClient& etcd, std::string key, std::string member, std::chrono::seconds ttl)
    : etcd_(etcd), key_(std::move(key)), member_(std::move(member)), ttl_(ttl) {}

Result<std::string> PoolElection::campaign() {
  if (leads_) {
    auto kept = renew();
    if (!kept) return std::unexpected(kept.error());
    if (*kept) return member_;
  }
  // A lease kept from an earlier, lost campaign may have run out meanwhile: renew it, or take
  // a new one.
  if (lease_ != 0) {
    auto left = etcd_.keep_alive(lease_);
    if (!left) return std::unexpected(std::move(left.error()).context("campaigning for " + key_));
    if (left->count() == 0) lease_ = 0;
  }
  if (lease_ == 0) {
    auto lease = etcd_.grant_lease(ttl_);
    if (!lease) return std::unexpected(std::move(lease.error()).context("campaigning for " + key_));
    lease_ = *lease;
  }
  auto swap = etcd_.put_if(key_, member_, 0, lease_);
  if (!swap) return std::unexpected(std::move(swap.error()).context("campaigning for " + key_));
  if (swap->written) {
    leads_ = true;
    revision_ = swap->revision;
    module_logger("pool")->info("{}: this member ({}) leads", key_, member_);
    return member_;
  }
  // Another member leads (or this member's earlier lease, if it still lives: then it is ours).
  if (swap->current && swap->current->lease == lease_) {
    leads_ = true;
    revision_ = swap->current->mod_revision;
    return member_;
  }
  return swap->current ? swap->current->value : std::string();
}

Result<bool> PoolElection::renew() {
  if (lease_ == 0) return false;
  auto left = etcd_.keep_alive(lease_);
  if (!left) return std::unexpected(std::move(left.error()).context("renewing the lease of " + key_));
  if (left->count() > 0) return leads_;
  if (leads_) module_logger("pool")->warn("{}: this member ({}) lost the lead: its lease ran out", key_, member_);
  leads_ = false;
  lease_ = 0;
  return false;
}

Result<void> PoolElection::resign() {
  if (leads_) {
    auto removed = etcd_.delete_if(key_, revision_);
    if (!removed) return std::unexpected(std::move(removed.error()).context("resigning " + key_));
  }
  leads_ = false;
  if (lease_ != 0) {
    auto revoked = etcd_.revoke_lease(lease_);
    lease_ = 0;
    if (!revoked && revoked.error().kind != ErrorKind::Rejected)  // an expired lease is already gone
      return std::unexpected(std::move(revoked.error()).context("resigning " + key_));
  }
  return {};
}

}  // namespace certagent::agent
