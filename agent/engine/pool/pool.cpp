#include "agent/engine/pool/pool.hpp"

#include <openssl/crypto.h>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "agent/store/version_files.hpp"
#include "agent/engine/system_waiter.hpp"
#include "agent/engine/acme.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/journal_mirror.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/pool_view.hpp"
#include "policy/required.hpp"
#include "protocol/acme/certificate.hpp"
#include "protocol/x509/certificate.hpp"
#include "protocol/x509/keys.hpp"

namespace certagent::agent {
namespace {

namespace json = boost::json;

std::shared_ptr<spdlog::logger> log() { return module_logger("pool"); }

constexpr std::chrono::seconds kFollowPoll{1};

// What version/<cert> says in clear (the sealed part aside).
struct Published {
  std::int64_t mod_revision = 0;
  std::string thumbprint, member, key_id, key_type, profile, sealed;
  std::vector<std::string> names;
  std::int64_t not_after = 0;
};

Result<std::optional<Published>> parse_published(const std::optional<protocol::EtcdKeyValue>& kv) {
  if (!kv) return std::optional<Published>{};
  try {
    const auto o = json::parse(kv->value).as_object();
    Published p;
    p.mod_revision = kv->mod_revision;
    p.thumbprint = o.at("thumbprint").as_string();
    p.member = o.at("member").as_string();
    p.key_id = o.at("key_id").as_string();
    p.key_type = o.at("key_type").as_string();
    p.profile = o.at("profile").as_string();
    p.sealed = o.at("sealed").as_string();
    p.not_after = o.at("not_after").as_int64();
    for (const auto& n : o.at("names").as_array()) p.names.emplace_back(n.as_string());
    return p;
  } catch (const std::exception& e) {
    return fail(ErrorKind::Protocol, fmt::format("{} in etcd is not a version certagent published ({})", kv->key, e.what()));
  }
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string now_rfc3339(std::int64_t unix) {
  return protocol::to_utc_string(std::chrono::system_clock::time_point(std::chrono::seconds(unix)));
}

}  // namespace

std::unique_ptr<PoolPass> PoolPass::for_policy(const policy::Policy& policy, protocol::Waiter& waiter,
                                               const std::atomic<bool>* cancel) {
  if (!policy.pool) return nullptr;
  return std::unique_ptr<PoolPass>(new PoolPass(*policy.pool, policy.ca, waiter, cancel));
}

PoolPass::PoolPass(policy::Pool pool, policy::CaConfig ca, protocol::Waiter& waiter, const std::atomic<bool>* cancel)
    : pool_(std::move(pool)), ca_(std::move(ca)), waiter_(waiter), cancel_(cancel) {}

bool PoolPass::order_alone(const EngineContext& ctx, const std::string& replaced) {
  if (replaced.empty()) return false;  // nothing served yet: wait for the pool rather than order N times
  auto v = ctx.store->unlocked().load_version(replaced);
  if (!v) return false;
  const auto lifetime = v->meta.not_after - v->meta.not_before;
  const auto left = v->meta.not_after - std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return left < lifetime / 10;
}

PoolPass::~PoolPass() {
  if (!state_dir_.empty()) set_journal_mirror(state_dir_, {});
  {
    std::lock_guard lock(leases_m_);
    stop_ = true;
  }
  leases_cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  // A member that still leads here (a cancelled pass) lets go at once rather than at its lease's end.
  for (auto& [id, e] : elections_)
    if (e->leads())
      if (auto r = e->resign(); !r) log()->warn("{}: {}", id, r.error().message);
}

bool PoolPass::pool_wide(const policy::RequiredCertificate& c) const {
  policy::Policy p;
  p.pool = pool_;
  return policy::is_pool_wide(p, c);
}

std::string PoolPass::key(std::string_view kind, std::string_view certificate_id) const {
  return fmt::format("{}/{}/{}", pool_.prefix, kind, certificate_id);
}

Result<void> PoolPass::open(EngineContext& ctx) {
  if (etcd_) return {};
  auto key = protocol::read_aead_key_file(pool_.key_file);
  if (!key) return std::unexpected(key.error().context("reading the pool key file " + pool_.key_file));
  protocol::EtcdOptions o;
  o.endpoints = pool_.etcd.endpoints;
  o.trust_file = pool_.etcd.trust_bundle;
  o.client_certificate_file = pool_.etcd.client_certificate.value_or("");
  o.client_key_file = pool_.etcd.client_key.value_or("");
  o.waiter = &waiter_;
  auto etcd = protocol::EtcdClient::create(o);
  if (!etcd) return std::unexpected(etcd.error().context("connecting to the pool's etcd"));
  auto keeper = protocol::EtcdClient::create(o);
  if (!keeper) return std::unexpected(keeper.error().context("connecting to the pool's etcd"));
  key_ = *key;
  etcd_ = std::move(*etcd);
  keeper_etcd_ = std::move(*keeper);
  keeper_ = std::thread([this] { keep_leases(); });
  state_dir_ = ctx.store->unlocked().dir();
  set_journal_mirror(state_dir_, [this](const OrderJournal& j) { return mirror_journal(j); });
  log()->info("pool {}: member {}, etcd {}, key {} (id {})", pool_.name, pool_.member,
              fmt::join(pool_.etcd.endpoints, ", "), pool_.key_file, protocol::aead_key_id(*key_));
  return {};
}

// The leases of the certificates this member leads, renewed at a third of their TTL while the
// orders run (an order can take longer than the lease: a CA that validates slowly).
void PoolPass::keep_leases() {
  std::unique_lock lock(leases_m_);
  while (!stop_) {
    leases_cv_.wait_for(lock, pool_.lease_ttl / 3, [&] { return stop_; });
    if (stop_) return;
    for (const auto& [id, lease] : leases_) {
      auto left = keeper_etcd_->keep_alive(lease);
      if (!left) log()->warn("{}: cannot renew the lead's lease: {}", id, left.error().message);
      else if (left->count() == 0) log()->warn("{}: the lead's lease ran out: another member may take over", id);
    }
  }
}

void PoolPass::report_bound(const std::string& certificate_id, const std::string& thumbprint) {
  const std::string k = key("bound", certificate_id) + "/" + pool_.member;
  std::lock_guard lock(m_);
  auto now = etcd_->get(k);
  auto put = now ? etcd_->put_if(k, thumbprint, *now ? (*now)->mod_revision : 0)
                 : Result<protocol::EtcdSwap>{std::unexpected(now.error())};
  if (!put) log()->warn("{}: cannot record in etcd that {} is bound here: {}", certificate_id, thumbprint, put.error().message);
}

Result<bool> PoolPass::install_if_serves(EngineContext& ctx, const policy::Action& a, const std::string& replaced,
                                         bool polling) {
  const auto& c = a.certificate;
  const std::string vkey = key("version", c.id);
  Result<std::optional<protocol::EtcdKeyValue>> kv = [&] {
    std::lock_guard lock(m_);
    return etcd_->get(vkey);
  }();
  if (!kv) return std::unexpected(kv.error().context("reading the pool's version of " + c.id));
  auto pub = parse_published(*kv);
  if (!pub) return std::unexpected(pub.error());
  if (!*pub) return false;
  const Published& p = **pub;
  const auto now = std::chrono::system_clock::now();
  const auto not_after = std::chrono::system_clock::time_point(std::chrono::seconds(p.not_after));
  std::optional<StoredVersion> old;
  if (!replaced.empty())
    if (auto v = ctx.store->unlocked().load_version(replaced)) old = *v;
  const char* why_not = sorted(p.names) != sorted(plain_names(c.names))      ? "other names"
                        : p.key_type != policy::to_string(c.key)             ? "another key type"
                        : p.profile != (c.profile ? c.profile->name : "")    ? "another profile"
                        : a.thumbprint && p.thumbprint == *a.thumbprint      ? "the certificate being replaced"
                        : not_after <= now                                   ? "expired"
                        : old && not_after <= old->meta.not_after            ? "not newer than the one it replaces"
                                                                             : nullptr;
  if (why_not != nullptr) {
    log()->log(polling ? spdlog::level::debug : spdlog::level::info, "{}: the pool's version {} (ordered by {}) does "
               "not serve: {}", c.id, p.thumbprint, p.member, why_not);
    return false;
  }
  auto plain = protocol::aead_open(*key_, p.sealed, vkey);
  if (!plain)
    return fail(ErrorKind::Crypto,
                fmt::format("the pool's version {} of {} (ordered by {}) does not open with this member's pool key "
                            "{} (id {}; it was sealed with key id {}): refusing to install it, nothing bound. Copy "
                            "the pool's key file from another member (docs/pool.md, \"The pool key and its rotation\")",
                            p.thumbprint, c.id, p.member, pool_.key_file, protocol::aead_key_id(*key_), p.key_id));
  NewVersion nv;
  try {
    const auto o = json::parse(*plain).as_object();
    nv.key_pem = o.at("key").as_string();
    nv.leaf_pem = o.at("leaf").as_string();
    nv.chain_pem = o.at("chain").as_string();
  } catch (const std::exception& e) {
    OPENSSL_cleanse(plain->data(), plain->size());
    return fail(ErrorKind::Protocol, fmt::format("the pool's version of {} opens but is not what certagent seals ({})",
                                                 c.id, e.what()));
  }
  OPENSSL_cleanse(plain->data(), plain->size());
  // The checks of an order's own result: the key matches, exactly these names, valid now, the chain links up.
  auto key = protocol::PrivateKey::from_pem(nv.key_pem);
  auto chain = protocol::parse_pem_chain(nv.leaf_pem + nv.chain_pem);
  if (!key || !chain) return std::unexpected((!key ? key.error() : chain.error()).context("the pool's version of " + c.id));
  protocol::CertificateChain cc;
  cc.certificates = std::move(*chain);
  if (auto ok = protocol::verify_issued(cc, *key, plain_names(c.names), now); !ok)
    return std::unexpected(ok.error().context(fmt::format("refusing the pool's version {} of {}", p.thumbprint, c.id)));
  nv.meta.certificate_id = c.id;
  nv.meta.key_type = p.key_type;
  nv.meta.profile = p.profile;
  Result<std::string> id = ctx.store->lock()->add_version(nv);
  OPENSSL_cleanse(nv.key_pem.data(), nv.key_pem.size());
  if (!id) return std::unexpected(id.error().context("storing the pool's version of " + c.id));
  auto bound = bind_version(ctx, c.purposes, *id, Store::LiveSync::Caller);  // live/ synced by the pass
  if (!bound) return std::unexpected(bound.error());
  log()->info("{}: installed the pool's version {} (thumbprint {}, ordered by {}) and bound it to {}", c.id, *id,
              p.thumbprint, p.member, fmt::join(c.purposes, ", "));
  report_bound(c.id, p.thumbprint);
  return true;
}

Result<PoolStep> PoolPass::campaign(EngineContext& ctx, const policy::Action& a, const std::string& replaced) {
  const auto& id = a.certificate.id;
  Result<std::string> leader = [&] {
    std::lock_guard lock(m_);
    auto& e = elections_[id];
    if (!e) e = std::make_unique<PoolElection>(*etcd_, key("leader", id), pool_.member, pool_.lease_ttl);
    return e->campaign();
  }();
  if (!leader) return std::unexpected(leader.error());
  if (*leader != pool_.member) {
    log()->info("{}: {} orders it for the pool; waiting for its version", id, leader->empty() ? "another member" : *leader);
    return PoolStep::Follow;
  }
  const std::int64_t lease = [&] {
    std::lock_guard lock(m_);  // followers campaign on several workers
    return elections_.at(id)->lease();
  }();
  {
    std::lock_guard lock(leases_m_);
    leases_[id] = lease;
  }
  // A leader that just finished may have published between this member's look and its win.
  auto installed = install_if_serves(ctx, a, replaced, true);
  if (!installed) return std::unexpected(installed.error());
  if (*installed) {
    give_up_lead(id);
    return PoolStep::Installed;
  }
  if (auto shared = share_account(ctx); !shared) {
    give_up_lead(id);
    return std::unexpected(shared.error().context("sharing the pool's ACME account"));
  }
  if (auto imported = import_journal(ctx, id); !imported) {
    give_up_lead(id);
    return std::unexpected(imported.error());
  }
  log()->info("{}: this member ({}) orders it for pool {}", id, pool_.member, pool_.name);
  return PoolStep::Lead;
}

Result<PoolStep> PoolPass::before_order(EngineContext& ctx, const policy::Action& a, const std::string& replaced) {
  auto step = [&]() -> Result<PoolStep> {
    if (auto opened = open(ctx); !opened) return std::unexpected(opened.error());
    auto installed = install_if_serves(ctx, a, replaced);
    if (!installed) return std::unexpected(installed.error());
    if (*installed) return PoolStep::Installed;
    return campaign(ctx, a, replaced);
  }();
  const bool unreachable = !step && (step.error().kind == ErrorKind::Transport || step.error().kind == ErrorKind::Timeout);
  if (unreachable && order_alone(ctx, replaced)) {
    log()->warn("{}: the pool's etcd cannot be reached ({}) and the certificate bound here has less than a tenth of "
                "its lifetime left: ordering it alone, not shared with the pool", a.certificate.id, step.error().message);
    return PoolStep::Alone;
  }
  return step;
}

Result<PoolStep> PoolPass::follow(EngineContext& ctx, const policy::Action& a, const std::string& replaced) {
  const auto& id = a.certificate.id;
  const auto until = std::chrono::steady_clock::now() + kFollowLimit;
  while (std::chrono::steady_clock::now() < until) {
    if (auto waited = waiter_.wait_until(std::chrono::system_clock::now() + kFollowPoll); !waited)
      return std::unexpected(waited.error());
    auto installed = install_if_serves(ctx, a, replaced, true);
    if (!installed) return std::unexpected(installed.error());
    if (*installed) return PoolStep::Installed;
    Result<std::optional<protocol::EtcdKeyValue>> held = [&] {
      std::lock_guard lock(m_);
      return etcd_->get(key("leader", id));
    }();
    if (!held) return std::unexpected(held.error().context("reading who leads " + id));
    if (*held) continue;
    log()->warn("{}: the member that led it is gone (no version published, its lease ran out); campaigning", id);
    auto step = campaign(ctx, a, replaced);
    if (!step || *step != PoolStep::Follow) return step;
  }
  return fail(ErrorKind::Timeout, fmt::format("{}: the pool's leader published no version within {} min; looked "
                                              "again at the next pass", id, kFollowLimit.count()));
}

Result<void> PoolPass::finish_lead(EngineContext& ctx, const policy::Action& a, bool ordered) {
  const auto& c = a.certificate;
  Result<void> out;
  if (ordered) out = [&]() -> Result<void> {
    auto b = ctx.store->unlocked().binding(c.purposes.front());
    if (!b || !*b) return fail(ErrorKind::Storage, "nothing bound to " + c.purposes.front() + " after the order");
    auto v = ctx.store->unlocked().load_version((*b)->version_id);
    if (!v) return std::unexpected(v.error());
    auto k = read_version_file(*v, VersionFile::Key);
    auto leaf = read_version_file(*v, VersionFile::Cert);
    auto chain = read_version_file(*v, VersionFile::Chain);
    if (!k || !leaf || !chain) return fail(ErrorKind::Storage, "cannot read version " + v->id + " to publish it");
    json::object plain{{"key", *k}, {"leaf", *leaf}, {"chain", *chain}};
    std::string text = json::serialize(plain);
    OPENSSL_cleanse(k->data(), k->size());
    const std::string vkey = key("version", c.id);
    auto sealed = protocol::aead_seal(*key_, text, vkey);
    OPENSSL_cleanse(text.data(), text.size());
    if (!sealed) return std::unexpected(sealed.error());
    json::array names;
    for (const auto& n : plain_names(c.names)) names.emplace_back(n);
    json::object pub{{"format", 1},
                     {"thumbprint", v->meta.thumbprint},
                     {"names", std::move(names)},
                     {"not_after", v->meta.not_after.time_since_epoch().count()},
                     {"key_type", v->meta.key_type},
                     {"profile", v->meta.profile},
                     {"member", pool_.member},
                     {"key_id", protocol::aead_key_id(*key_)},
                     {"sealed", *sealed}};
    std::lock_guard lock(m_);
    if (auto still = elections_[c.id]->renew(); !still || !*still)
      log()->warn("{}: this member lost the lead during the order; publishing its version all the same", c.id);
    auto now = etcd_->get(vkey);
    if (!now) return std::unexpected(now.error());
    auto put = etcd_->put_if(vkey, json::serialize(pub), *now ? (*now)->mod_revision : 0);
    if (!put) return std::unexpected(put.error());
    if (!put->written) return fail(ErrorKind::Storage, vkey + " changed while publishing");
    log()->info("{}: published version {} (thumbprint {}, until {}) for pool {}", c.id, v->id, v->meta.thumbprint,
                now_rfc3339(v->meta.not_after.time_since_epoch().count()), pool_.name);
    return {};
  }();
  if (out && ordered)
    if (auto b = ctx.store->unlocked().binding(c.purposes.front()); b && *b)
      if (auto v = ctx.store->unlocked().load_version((*b)->version_id)) report_bound(c.id, v->meta.thumbprint);
  // The order is over here (stored, or void at the CA): its journal in etcd goes too. One still
  // pending at the CA (or not placed: a network error) stays journaled for whoever leads next.
  if (auto local = read_order_journal(ctx.store->unlocked(), c.id); local && !*local) {
    std::lock_guard lock(m_);
    if (auto j = etcd_->get(key("journal", c.id)); j && *j)
      if (auto removed = etcd_->delete_if((*j)->key, (*j)->mod_revision); !removed)
        log()->warn("{}: cannot remove its order journal from etcd: {}", c.id, removed.error().message);
  }
  give_up_lead(c.id);
  if (!out) return std::unexpected(out.error().context("publishing " + c.id + " for the pool"));
  return {};
}

void PoolPass::record_view(EngineContext& ctx, const std::vector<std::string>& certificate_ids) {
  if (certificate_ids.empty()) return;
  if (auto opened = open(ctx); !opened) {
    log()->warn("pool {}: cannot read the pool's state for `certagent status`: {}", pool_.name, opened.error().message);
    return;
  }
  Result<std::vector<protocol::EtcdKeyValue>> listed = [&] {
    std::lock_guard lock(m_);
    return etcd_->list(pool_.prefix + "/");
  }();
  if (!listed) {
    log()->warn("pool {}: cannot read the pool's state for `certagent status`: {}", pool_.name, listed.error().message);
    return;
  }
  PoolView view{pool_.name, pool_.member, std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), {}};
  for (const auto& id : certificate_ids) {
    PoolViewCertificate c{id, "", "", "", {}};
    const std::string bound_prefix = key("bound", id) + "/";
    for (const auto& kv : *listed) {
      if (kv.key == key("leader", id)) c.leader = kv.value;
      if (kv.key.starts_with(bound_prefix)) c.bound[kv.key.substr(bound_prefix.size())] = kv.value;
      if (kv.key == key("version", id))
        if (auto p = parse_published(kv); p && *p) {
          c.thumbprint = (*p)->thumbprint;
          c.ordered_by = (*p)->member;
        }
    }
    view.certificates.push_back(std::move(c));
  }
  const StoreWriter store = ctx.store->lock();
  if (auto written = write_pool_view(store->dir(), view); !written)
    log()->warn("pool {}: cannot write {}: {}", pool_.name, pool_view_path(store->dir()).string(),
                written.error().message);
}

void PoolPass::give_up_lead(const std::string& certificate_id) {
  {
    std::lock_guard lock(leases_m_);
    leases_.erase(certificate_id);
  }
  std::lock_guard lock(m_);
  if (auto e = elections_.find(certificate_id); e != elections_.end())
    if (auto r = e->second->resign(); !r) log()->warn("{}: {}", certificate_id, r.error().message);
}

namespace {

json::object account_json(const Account& a) {
  return json::object{{"directory_url", a.directory_url}, {"account_url", a.account_url},
                      {"contacts", json::array(a.contacts.begin(), a.contacts.end())}, {"key", a.key_pem}};
}

Account account_from(const json::object& o) {
  Account a;
  a.directory_url = o.at("directory_url").as_string();
  a.account_url = o.at("account_url").as_string();
  for (const auto& c : o.at("contacts").as_array()) a.contacts.emplace_back(c.as_string());
  a.key_pem = o.at("key").as_string();
  return a;
}

}  // namespace

// Runs on the worker ordering the certificate, after its journal is written and before the CA
// acts on that step: the order goes on only once etcd has the journal and this member still leads.
Result<void> PoolPass::mirror_journal(const OrderJournal& journal) {
  const auto& id = journal.certificate_id;
  {
    std::lock_guard lock(leases_m_);
    if (!leases_.contains(id)) return {};  // not a pool certificate this member leads
  }
  const std::string jkey = key("journal", id);
  std::string text = order_journal_json(journal);
  auto sealed = protocol::aead_seal(*key_, text, jkey);
  OPENSSL_cleanse(text.data(), text.size());
  if (!sealed) return std::unexpected(sealed.error());
  std::lock_guard lock(m_);
  auto still = elections_.at(id)->renew();
  if (!still) return std::unexpected(still.error());
  if (!*still)
    return fail(ErrorKind::Storage, fmt::format("{}: this member no longer leads it for the pool (its lease ran out): "
                                                "not going on with the order", id));
  auto now = etcd_->get(jkey);
  if (!now) return std::unexpected(now.error());
  auto put = etcd_->put_if(jkey, *sealed, *now ? (*now)->mod_revision : 0);
  if (!put) return std::unexpected(put.error());
  if (!put->written) return fail(ErrorKind::Storage, jkey + " changed while this member led " + id);
  return {};
}

Result<void> PoolPass::import_journal(EngineContext& ctx, const std::string& certificate_id) {
  const std::string jkey = key("journal", certificate_id);
  Result<std::optional<protocol::EtcdKeyValue>> kv = [&] {
    std::lock_guard lock(m_);
    return etcd_->get(jkey);
  }();
  if (!kv) return std::unexpected(kv.error().context("reading the pool's order journal of " + certificate_id));
  if (!*kv) return {};
  auto plain = protocol::aead_open(*key_, (*kv)->value, jkey);
  if (!plain)
    return fail(ErrorKind::Crypto, fmt::format("the pool's order journal of {} does not open with this member's pool "
                                               "key {} (id {}): refusing to order", certificate_id, pool_.key_file,
                                               protocol::aead_key_id(*key_)));
  auto parsed = parse_order_journal(*plain, jkey);
  OPENSSL_cleanse(plain->data(), plain->size());
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->certificate_id != certificate_id)
    return fail(ErrorKind::Protocol, fmt::format("{} holds the order journal of {}, not of {}", jkey,
                                                 parsed->certificate_id, certificate_id));
  OrderJournal j = std::move(*parsed);
  auto local = read_order_journal(ctx.store->unlocked(), certificate_id);
  if (local && *local && (*local)->order_url == j.order_url && (*local)->key_pem == j.key_pem) return {};
  log()->warn("{}: resuming the order {} that the member leading before placed (journaled in etcd)", certificate_id,
              j.order_url.empty() ? std::string("(only its intent)") : j.order_url);
  auto written = write_order_journal(ctx.store->unlocked(), j);
  OPENSSL_cleanse(j.key_pem.data(), j.key_pem.size());
  if (!written) return std::unexpected(written.error().context("importing the pool's order journal of " + certificate_id));
  return {};
}

Result<void> PoolPass::share_account(EngineContext& ctx) {
  std::lock_guard once(account_m_);  // members taking over on several workers: one adopts or publishes
  if (account_shared_) return {};
  const std::string akey = pool_.prefix + "/account";
  for (int round = 0; round < 2; ++round) {
    Result<std::optional<protocol::EtcdKeyValue>> kv = [&] {
      std::lock_guard lock(m_);
      return etcd_->get(akey);
    }();
    if (!kv) return std::unexpected(kv.error());
    Result<std::optional<Account>> local = ctx.store->lock()->load_account(ca_.directory_url);
    if (!local) return std::unexpected(local.error());
    if (*kv) {
      auto plain = protocol::aead_open(*key_, (*kv)->value, akey);
      if (!plain)
        return fail(ErrorKind::Crypto, fmt::format("the pool's ACME account does not open with this member's pool key "
                                                   "{} (id {}): refusing to order", pool_.key_file,
                                                   protocol::aead_key_id(*key_)));
      Account pool;
      try {
        pool = account_from(json::parse(*plain).as_object());
      } catch (const std::exception& e) {
        return fail(ErrorKind::Protocol, fmt::format("{} is not an ACME account ({})", akey, e.what()));
      }
      OPENSSL_cleanse(plain->data(), plain->size());
      if (pool.directory_url != ca_.directory_url) {
        log()->warn("the pool's ACME account is for {}, not this member's CA {}: ordering with this member's own; "
                    "another member cannot resume its orders", pool.directory_url, ca_.directory_url);
      } else if (!*local || (*local)->account_url != pool.account_url || (*local)->key_pem != pool.key_pem) {
        const StoreWriter store = ctx.store->lock();
        if (*local && !(*local)->account_url.empty())
          if (auto retired = store->retire_account(**local, std::chrono::system_clock::to_time_t(
                                                                     std::chrono::system_clock::now()));
              !retired)
            return std::unexpected(retired.error());
        if (auto saved = store->save_account(pool); !saved) return std::unexpected(saved.error());
        log()->info("using the pool's ACME account {} (this member's own kept as retired)", pool.account_url);
      }
      OPENSSL_cleanse(pool.key_pem.data(), pool.key_pem.size());
      account_shared_ = true;
      return {};
    }
    if (!*local || (*local)->account_url.empty()) {  // register one: the pool's from now on
      auto ca = open_ca(*ctx.store->lock(), ca_, 1, *ctx.clock, *ctx.waiter, cancel_);
      if (!ca) return std::unexpected(ca.error());
      continue;
    }
    std::string text = json::serialize(account_json(**local));
    auto sealed = protocol::aead_seal(*key_, text, akey);
    OPENSSL_cleanse(text.data(), text.size());
    if (!sealed) return std::unexpected(sealed.error());
    Result<protocol::EtcdSwap> put = [&] {
      std::lock_guard lock(m_);
      return etcd_->put_if(akey, *sealed, 0);
    }();
    if (!put) return std::unexpected(put.error());
    if (put->written) {
      log()->info("this member's ACME account {} is the pool's", (*local)->account_url);
      account_shared_ = true;
      return {};
    }
    // Another member published its account first: take that one (the next round).
  }
  return {};
}

}  // namespace certagent::agent
