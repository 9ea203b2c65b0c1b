#pragma once
// ACME accounts (RFC 8555 §7.3): create, find, update contacts, external
// account binding, key rollover, deactivation. The account key and URL are
// returned to the caller (storing them is the agent's job); on success the
// session signs with that account from then on.
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/x509/keys.hpp"

namespace certagent::protocol {

struct ExternalAccountBinding {  // §7.3.4
  std::string kid;
  std::string mac_key;  // base64url or base64, as the CA printed it
};

struct NewAccountOptions {
  std::vector<std::string> contact;  // "mailto:..." URLs
  bool agree_to_terms = false;       // must be true when the directory has termsOfService
  std::optional<ExternalAccountBinding> eab;
};

struct Account {
  AccountRef ref;  // key + URL (the `kid`)
  std::string status;
  std::vector<std::string> contact;
  bool created = false;  // false: the key already had an account (HTTP 200)
};

// newAccount (§7.3). An existing account for the key is returned, not duplicated.
[[nodiscard]] Result<Account> create_account(AcmeSession& session, std::shared_ptr<const PrivateKey> key,
                                             const NewAccountOptions& options);
// newAccount with onlyReturnExisting (§7.3.1); Unauthorized when there is none.
[[nodiscard]] Result<Account> find_account(AcmeSession& session, std::shared_ptr<const PrivateKey> key);
// Replaces the contacts of the session's account (§7.3.2).
[[nodiscard]] Result<Account> update_contacts(AcmeSession& session, const std::vector<std::string>& contact);
// Rolls the session's account over to `new_key` (§7.3.5); the session then signs with it.
[[nodiscard]] Result<void> change_account_key(AcmeSession& session, std::shared_ptr<const PrivateKey> new_key);
// Deactivates the session's account (§7.3.6); it cannot be used afterwards.
[[nodiscard]] Result<void> deactivate_account(AcmeSession& session);

}  // namespace certagent::protocol
