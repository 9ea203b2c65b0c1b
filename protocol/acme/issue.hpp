#pragma once
// One certificate, end to end (RFC 8555 §7.4): newOrder → authorize (all
// challenges at once) → finalize with a CSR for exactly the requested names →
// download (preferred chain) → verify — the one order pipeline, for the engine
// and for `certagent acme issue`. An RSA certificate key is generated on
// another thread while the CA validates. Needs a session with an account.
//
// With an IssueJournal (the engine's order journal) every step is recorded
// before the CA can act on it, so that an issuance interrupted at any point is
// resumed where it stopped and never placed twice; without one nothing is kept.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/authorize.hpp"
#include "protocol/acme/certificate.hpp"
#include "protocol/acme/challenge.hpp"
#include "protocol/acme/order.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/x509/keys.hpp"

namespace certagent::protocol {

using KeyPtr = std::shared_ptr<const PrivateKey>;

struct IssueRequest {
  std::vector<std::string> names;   // DNS names; the first becomes the CSR's CN
  KeyType key_type = KeyType::EcP256;  // for a new certificate key
  KeyPtr certificate_key;           // reuse this key instead (null: generate)
  std::string replaces;             // ARI certID of the certificate being renewed (RFC 9773 §5)
  std::string profile;              // a profile the directory offers, or ""
  std::string preferred_chain;      // issuer CN of the preferred chain's top certificate
  AuthorizeOptions authorize;       // validation polling (total time bounded)
  PollPolicy issuance;              // processing-order polling
  std::string label;                // names the certificate in log lines ("" : its first name)
  // After a serverInternal, newOrder once more if the account reads fine; a second
  // serverInternal is then is_account_unable_to_order (the engine replaces the account).
  bool ask_again_after_server_internal = false;
};

struct IssuedCertificate {
  KeyPtr key;
  CertificateChain chain;      // verified
  std::string order_url;
  std::string certificate_pem;  // the leaf
  std::string chain_pem;        // the intermediates
  std::string fullchain_pem;    // leaf + intermediates
};

// The new certificate key when it is there without waiting, else null.
using ReadyKey = std::function<KeyPtr()>;

// An order in hand: placed now, or taken up again from a journal. `key`: the
// certificate key journaled with it (null: none yet, no CSR made).
struct PlacedOrder {
  Order order;
  KeyPtr key;
};

// Where an issuance records its steps (each write durable before it returns).
// protocol/ calls it; the agent implements it on its order journal.
class IssueJournal {
 public:
  enum class Step { BeforeFinalize, AfterFinalize, AfterDownload };
  virtual ~IssueJournal() = default;
  // The order an interrupted issuance left, when the CA still has it for the
  // same names and it can still succeed; nullopt: place a new one.
  [[nodiscard]] virtual std::optional<PlacedOrder> resume(AcmeSession& session, const ReadyKey& ready_key) = 0;
  // Before newOrder is sent.
  [[nodiscard]] virtual Result<void> intend(const AcmeSession& session) = 0;
  // newOrder failed; `no_order`: the CA refused it outright, so it created no
  // order and the intent is void. May add context to `error`.
  virtual void new_order_failed(Error& error, bool no_order) = 0;
  // The order the CA created, with the key `ready_key` gives when it gives one;
  // returns the key journaled with it (null: none).
  [[nodiscard]] virtual Result<KeyPtr> placed(const Order& order, const ReadyKey& ready_key) = 0;
  // The key on its own, before the CSR made from it is sent.
  [[nodiscard]] virtual Result<void> keyed(const PrivateKey& key) = 0;
  // A step passed (the agent's fault points).
  [[nodiscard]] virtual Result<void> reached(Step step) = 0;
};

// The CA no longer knows the account (accountDoesNotExist).
[[nodiscard]] bool is_lost_account(const Error& e);
// newOrder answered serverInternal twice in a row for this account, while the directory and
// nonces work (the answer was a problem document to a signed request) and the account reads
// fine: the account can no longer order (step-ca 0.19 after its orders list was read).
// place_order says so with this error; the agent then replaces the account.
[[nodiscard]] bool is_account_unable_to_order(const Error& e);
[[nodiscard]] Error account_unable_to_order(Error new_order_error);

// The issued certificate's PEM forms (leaf, chain, full chain) from a verified chain.
[[nodiscard]] Result<IssuedCertificate> assemble_issued_certificate(KeyPtr key, CertificateChain chain,
                                                                   std::string order_url);

// The new-order step: the intent journaled, newOrder (with `replaces` when the
// CA offers ARI, placed again without it when the CA refuses it; once more
// after a serverInternal while the account reads fine, when the request says
// so), and the order journaled — with the key `ready_key` gives, if it gives one.
[[nodiscard]] Result<PlacedOrder> place_order(AcmeSession& session, const IssueRequest& request,
                                              IssueJournal* journal, const ReadyKey& ready_key = {});

// The whole pipeline; `journal` may be null.
[[nodiscard]] Result<IssuedCertificate> issue_certificate(AcmeSession& session, const IssueRequest& request,
                                                          ChallengeSolver& solver, IssueJournal* journal = nullptr);

}  // namespace certagent::protocol
