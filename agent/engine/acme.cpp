#include "agent/engine/acme.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "agent/store/fsutil.hpp"
#include "agent/store/logging.hpp"
#include "protocol/acme/account.hpp"
#include "protocol/http/curl_transport.hpp"

namespace certagent::agent {
namespace {

constexpr std::size_t kMacKeyFileCap = 4096;

Result<std::string> read_mac_key(const std::string& file) {
  auto text = fsutil::read_file(file, kMacKeyFileCap);
  if (!text) return std::unexpected(text.error().context("reading the EAB MAC key file"));
  std::string key = *text;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t'))
    key.pop_back();
  if (key.empty()) return fail(ErrorKind::Invalid, "the EAB MAC key file " + file + " is empty");
  return key;
}

Result<std::shared_ptr<const protocol::PrivateKey>> key_from_pem(const std::string& pem) {
  auto key = protocol::PrivateKey::from_pem(pem);
  if (!key) return std::unexpected(key.error().context("reading the stored account key"));
  return std::make_shared<const protocol::PrivateKey>(std::move(*key));
}

// The stored account (possibly a key not yet registered), or a new key saved first.
Result<Account> stored_or_new_account(Store& store, const policy::CaConfig& ca) {
  auto stored = store.load_account(ca.directory_url);
  if (!stored) return std::unexpected(stored.error());
  if (*stored) return **stored;
  auto key = protocol::PrivateKey::generate(protocol::KeyType::EcP256);
  if (!key) return std::unexpected(key.error().context("generating the account key"));
  auto pem = key->to_pem();
  if (!pem) return std::unexpected(pem.error());
  Account fresh{ca.directory_url, "", ca.contacts, std::move(*pem), false};
  if (auto saved = store.save_account(fresh); !saved) return std::unexpected(saved.error());
  return fresh;
}

Result<protocol::NewAccountOptions> new_account_options(const policy::CaConfig& ca) {
  protocol::NewAccountOptions options;
  options.contact = ca.contacts;
  options.agree_to_terms = true;
  if (ca.eab) {
    auto mac = read_mac_key(ca.eab->mac_key_file);
    if (!mac) return std::unexpected(mac.error());
    options.eab = protocol::ExternalAccountBinding{ca.eab->key_id, std::move(*mac)};
  }
  return options;
}

}  // namespace

protocol::KeyType to_protocol_key(policy::KeyType k) {
  switch (k) {
    case policy::KeyType::EcP256: return protocol::KeyType::EcP256;
    case policy::KeyType::EcP384: return protocol::KeyType::EcP384;
    case policy::KeyType::Rsa2048: return protocol::KeyType::Rsa2048;
    case policy::KeyType::Rsa3072: return protocol::KeyType::Rsa3072;
    case policy::KeyType::Rsa4096: return protocol::KeyType::Rsa4096;
  }
  return protocol::KeyType::EcP256;
}

namespace {

Result<std::unique_ptr<protocol::Transport>> new_transport(const std::string& trust_file,
                                                           const std::atomic<bool>* cancel) {
  protocol::CurlTransportOptions options;
  options.trust_file = trust_file;
  options.cancel = cancel;
  auto transport = protocol::CurlTransport::create(options);
  if (!transport) return std::unexpected(transport.error());
  return std::unique_ptr<protocol::Transport>(std::move(*transport));
}

}  // namespace

Result<CaConnection> connect_to_ca(const std::string& directory_url, const std::string& trust_file,
                                   const protocol::Clock& clock, protocol::Waiter& waiter,
                                   const std::atomic<bool>* cancel) {
  auto transport = new_transport(trust_file, cancel);
  if (!transport) return std::unexpected(transport.error());
  CaConnection c;
  c.transport = std::move(*transport);
  auto session = protocol::AcmeSession::open(*c.transport, clock, waiter, directory_url);
  if (!session) return std::unexpected(session.error().context("opening the ACME directory " + directory_url));
  c.session = std::make_unique<protocol::AcmeSession>(std::move(*session));
  return c;
}

Result<CaConnection> another_connection(const CaConnection& first, const std::string& trust_file,
                                        const std::atomic<bool>* cancel) {
  auto transport = new_transport(trust_file, cancel);
  if (!transport) return std::unexpected(transport.error());
  CaConnection c;
  c.transport = std::move(*transport);
  c.session = std::make_unique<protocol::AcmeSession>(first.session->sibling(*c.transport));
  return c;
}

Result<void> forget_account_url(Store& store, const policy::CaConfig& ca) {
  auto stored = store.load_account(ca.directory_url);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) return ok();
  Account account = **stored;
  module_logger("engine")->warn("{} no longer knows account {}; registering the account key again",
                                ca.directory_url, account.account_url);
  account.account_url.clear();
  return store.save_account(account);
}

Result<void> replace_account(Store& store, const policy::CaConfig& ca, std::int64_t unix_time, const std::string& why) {
  auto stored = store.load_account(ca.directory_url);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) return ok();  // nothing to replace: the next open registers one
  Account account = **stored;
  if (!account.account_url.empty())
    if (auto kept = store.retire_account(account, unix_time); !kept) return kept;
  auto key = protocol::PrivateKey::generate(protocol::KeyType::EcP256);
  if (!key) return std::unexpected(key.error().context("generating a new account key"));
  auto pem = key->to_pem();
  if (!pem) return std::unexpected(pem.error());
  module_logger("engine")->warn("{}: replacing account {} with a new account and key ({}); the old key is kept as "
                                "retired-{}.key", ca.directory_url, account.account_url, why, unix_time);
  account.account_url.clear();
  account.key_pem = std::move(*pem);
  return store.save_account(account);
}

void mark_orders_list_unusable(const StoreWriter& writer, const std::string& directory_url, const std::string& why) {
  Store& store = *writer;
  auto stored = store.load_account(directory_url);
  if (!stored || !*stored || (*stored)->orders_list_unusable) return;
  Account account = **stored;
  account.orders_list_unusable = true;
  module_logger("engine")->warn("{}: the account's orders list is not read again ({})", directory_url, why);
  if (auto saved = store.save_account(account); !saved)
    module_logger("engine")->error("{}: {}", directory_url, saved.error().message);
}

bool orders_list_unusable(const Store& store, const std::string& directory_url) {
  auto stored = store.load_account(directory_url);
  return stored && *stored && (*stored)->orders_list_unusable;
}

Result<void> check_profile(const protocol::Directory& directory, const policy::ProfileChoice& profile,
                           const std::string& directory_url) {
  const auto& offered = directory.profiles;
  if (std::find(offered.begin(), offered.end(), profile.name) != offered.end()) return ok();
  if (offered.empty())
    return fail(ErrorKind::Policy, fmt::format("{}: the CA {} offers no certificate profiles (its directory has no "
                                               "meta.profiles), so it cannot issue under '{}'; remove \"profile\"",
                                               profile.at, directory_url, profile.name));
  return fail(ErrorKind::Policy, fmt::format("{}: the CA {} does not offer the certificate profile '{}'; its profiles: "
                                             "{} (write one of them)",
                                             profile.at, directory_url, profile.name, fmt::join(offered, ", ")));
}

Result<CaAccess> prepare_account(Store& store, const policy::CaConfig& ca, protocol::AcmeSession& session) {
  CaAccess access{ca.directory_url, ca.trust_bundle.value_or(""), {}, ca.preferred_chain.value_or("")};
  auto account = stored_or_new_account(store, ca);
  if (!account) return std::unexpected(account.error());
  auto key = key_from_pem(account->key_pem);
  if (!key) return std::unexpected(key.error());
  if (!account->account_url.empty()) {
    access.account = protocol::AccountRef{*key, account->account_url};
    session.set_account(access.account);
    return access;
  }
  auto options = new_account_options(ca);
  if (!options) return std::unexpected(options.error());
  auto created = protocol::create_account(session, *key, *options);
  if (!created) return std::unexpected(created.error().context("registering an ACME account with " + ca.directory_url));
  account->account_url = created->ref.url;
  if (auto saved = store.save_account(*account); !saved) return std::unexpected(saved.error());
  module_logger("engine")->info("registered ACME account {} with {}{}", created->ref.url, ca.directory_url,
                                ca.eab ? fmt::format(" (external account {})", ca.eab->key_id) : "");
  access.account = created->ref;
  session.set_account(access.account);
  return access;
}

Result<OpenCa> open_ca(Store& store, const policy::CaConfig& ca, std::size_t workers, const protocol::Clock& clock,
                       protocol::Waiter& waiter, const std::atomic<bool>* cancel) {
  const std::string trust = ca.trust_bundle.value_or("");
  auto first = connect_to_ca(ca.directory_url, trust, clock, waiter, cancel);
  if (!first) return std::unexpected(first.error());
  auto access = prepare_account(store, ca, *first->session);
  if (!access) return std::unexpected(access.error());
  OpenCa out{std::move(*access), {}};
  out.connections.push_back(std::move(*first));
  while (out.connections.size() < std::max<std::size_t>(workers, 1)) {
    auto more = another_connection(out.connections.front(), trust, cancel);
    if (!more) return std::unexpected(more.error());
    out.connections.push_back(std::move(*more));
  }
  return out;
}

}  // namespace certagent::agent
