#pragma once
// The engine's side of the CA: the account (loaded from the store, or created
// — with External Account Binding when the policy names one — and saved on
// first use) and one certificate order for exactly a set of names. A pass
// opens the CA once (open_ca: one directory request, one account lookup) and
// gives each worker thread its own transport (keep-alive connection) with a
// sibling session sharing the directory, the nonce pool and the account; a
// worker orders certificate after certificate through its session.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/store/order_journal.hpp"
#include "agent/store/shared.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"
#include "policy/model.hpp"
#include "protocol/acme/issue.hpp"
#include "protocol/acme/order.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/acme/challenge.hpp"
#include "protocol/acme/waiting.hpp"

namespace certagent::agent {

// What every order of one pass shares.
struct CaAccess {
  std::string directory_url;
  std::string trust_file;            // "" : the system trust store
  protocol::AccountRef account;      // key + account URL
  std::string preferred_chain;
};

// The policy's key type as protocol/ names it.
[[nodiscard]] protocol::KeyType to_protocol_key(policy::KeyType k);

// Opens a transport and a session to the policy's CA (TLS verified, against
// the policy's trust bundle when it names one): one directory request.
// `cancel` (may be null): once true, a request on the wire fails with Cancelled
// within ~100 ms (protocol/http/curl_transport.hpp).
struct CaConnection {
  std::unique_ptr<protocol::Transport> transport;
  std::unique_ptr<protocol::AcmeSession> session;
};
[[nodiscard]] Result<CaConnection> connect_to_ca(const std::string& directory_url, const std::string& trust_file,
                                                 const protocol::Clock& clock, protocol::Waiter& waiter,
                                                 const std::atomic<bool>* cancel = nullptr);
// A further connection to the same CA for another thread: a new transport and
// a sibling of `first`'s session (protocol::AcmeSession::sibling); no request.
[[nodiscard]] Result<CaConnection> another_connection(const CaConnection& first, const std::string& trust_file,
                                                      const std::atomic<bool>* cancel = nullptr);

// The CA no longer knows the stored account (a new or reset CA,
// protocol::is_lost_account): forget its URL (keeping the key), so that
// prepare_account registers it again.
using protocol::is_lost_account;
[[nodiscard]] Result<void> forget_account_url(Store& store, const policy::CaConfig& ca);

// The account can no longer order (protocol::is_account_unable_to_order): the
// pass then replaces the account (replace_account) and orders again.
using protocol::is_account_unable_to_order;
// Keeps the stored account (Store::retire_account) and saves a new key in its place, not yet
// registered, so that prepare_account registers it. Logs `why` once.
[[nodiscard]] Result<void> replace_account(Store& store, const policy::CaConfig& ca, std::int64_t unix_time,
                                           const std::string& why);
// The CA's orders list was not shaped as RFC 8555 says: not read again for this CA.
void mark_orders_list_unusable(const StoreWriter& store, const std::string& directory_url, const std::string& why);
[[nodiscard]] bool orders_list_unusable(const Store& store, const std::string& directory_url);

// The account for the policy's CA: from the store, or registered now through
// `session` (terms agreed, contacts and EAB from the policy; the MAC key is
// read from its file and never logged) and saved — the key before the
// registration, so a crash in between re-registers the same key instead of
// orphaning an account. The account is set on `session`.
[[nodiscard]] Result<CaAccess> prepare_account(Store& store, const policy::CaConfig& ca,
                                               protocol::AcmeSession& session);

// What a pass (or a one-off command) needs of the CA: the account and
// `workers` connections (at least one), all from one directory request.
struct OpenCa {
  CaAccess access;
  std::vector<CaConnection> connections;
};
[[nodiscard]] Result<OpenCa> open_ca(Store& store, const policy::CaConfig& ca, std::size_t workers,
                                     const protocol::Clock& clock, protocol::Waiter& waiter,
                                     const std::atomic<bool>* cancel = nullptr);

// `profile` is one the CA's directory lists under meta.profiles; else a Policy error at the
// profile's place in the policy, listing the CA's profiles.
[[nodiscard]] Result<void> check_profile(const protocol::Directory& directory, const policy::ProfileChoice& profile,
                                         const std::string& directory_url);

struct OrderRequest {
  std::string certificate_id;
  std::vector<std::string> names;
  policy::KeyType key = policy::KeyType::EcP256;
  std::string replaces;  // ARI certID of the certificate this renews (RFC 9773 §5); "" none
  std::string profile;   // the ACME profile to order under (checked by check_profile); "" none
};
// The new-order step of order_certificate (protocol::place_order) with the
// certificate's order journal: the intent journaled, newOrder, and the order's
// URL journaled — with the key `ready_key` gives, if it gives one (then no CSR
// has been made from it yet).
using protocol::ReadyKey;
[[nodiscard]] Result<protocol::PlacedOrder> place_order(protocol::AcmeSession& session, const OrderRequest& request,
                                                        const Store& store, const ReadyKey& ready_key = {});

// One order for exactly the request's names with a new key of its type,
// through `session` (one thread's): the one order pipeline
// (protocol::issue_certificate) with the certificate's order journal
// (agent/store/order_journal.hpp) as its IssueJournal. Resumes the order
// journaled for `certificate_id` when the CA still has it — with only the
// intent journaled, the order found in the account's orders list
// (agent/engine/order_lookup.hpp); otherwise journals the intent, places a new
// order and journals its URL. The new certificate key is journaled with the
// order's URL when it is there without waiting — an EC key always is — and
// otherwise on its own before finalize. Notes the CA's directory
// (agent/engine/ari.hpp) through a StoreWriter; the journal writes go through
// SharedStore::unlocked() (agent/engine/order.cpp says why that is safe). The
// caller removes the journal once the result is stored.
[[nodiscard]] Result<protocol::IssuedCertificate> order_certificate(const CaAccess& ca, const OrderRequest& request,
                                                                    protocol::AcmeSession& session, SharedStore& store,
                                                                    protocol::ChallengeSolver& solver,
                                                                    const protocol::Clock& clock);

}  // namespace certagent::agent
