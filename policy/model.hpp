#pragma once
// The policy as certagent understands it once parsed and validated. Every
// name in here is already normalised (lower case, no trailing dot) and every
// template already expanded; see docs/policy.md for the file format.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certagent::policy {

enum class KeyType { EcP256, EcP384, Rsa2048, Rsa3072, Rsa4096 };
[[nodiscard]] std::string_view to_string(KeyType k);
[[nodiscard]] std::optional<KeyType> parse_key_type(std::string_view s);
inline constexpr std::string_view kKeyTypeChoices = "ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096";

// The policy's `renewal`; decide_renewal() (policy/renewal.hpp) applies it.
struct Renewal {
  enum class Mode { Auto, RemainingFraction, BeforeExpiry } mode = Mode::Auto;
  double remaining_fraction = 1.0 / 3.0;        // RemainingFraction: renew when this much remains
  std::chrono::seconds before_expiry{0};        // BeforeExpiry
};

// An ACME certificate profile (draft-ietf-acme-profiles) the policy names, and where: the
// engine checks the name against the CA's directory (meta.profiles) and its error points here.
struct ProfileChoice {
  std::string name;
  std::string at;  // "FILE:LINE:COLUMN: PATH" of the value in the policy
  friend bool operator==(const ProfileChoice&, const ProfileChoice&) = default;
};

struct ExternalAccountBinding {  // RFC 8555 §7.3.4
  std::string key_id;
  std::string mac_key_file;  // the MAC key itself never appears in the policy
};

struct CaConfig {
  std::string directory_url;
  std::optional<std::string> trust_bundle;  // PEM file for the CA's HTTPS (private CA)
  std::optional<ExternalAccountBinding> eab;
  std::vector<std::string> contacts;        // "mailto:..." URLs
  std::optional<std::string> preferred_chain;
  std::optional<ProfileChoice> profile;     // every certificate's, unless a role or purpose names its own
  // Certificates ordered at once (each on its own connection); unset: the engine's default, 4.
  std::optional<int> concurrency;
  // Names one certificate may carry (the CA's limit); unset: kDefaultMaxNames.
  std::optional<int> max_names;
};

inline constexpr int kMaxConcurrency = 32;
inline constexpr int kDefaultMaxNames = 100;  // Let's Encrypt's limit; many enterprise CAs take fewer
inline constexpr int kMaxMaxNames = 1000;

// dns-01 by RFC 2136 dynamic update, signed with a TSIG key (docs/policy.md, "rfc2136").
struct Rfc2136 {
  std::string server;                        // the zone's primary, "IP:PORT"
  std::string key_file;                      // absolute; `tsig-keygen` format; read when a pass starts
  std::optional<std::string> zone;           // unset: found by an SOA query to `server`
  int nameserver_port = 53;                  // where every server of the zone's NS set answers
  std::chrono::seconds propagation_timeout{120};
  std::chrono::seconds propagation_interval{2};
};

struct Challenge {
  enum class Type { Http01, Dns01, DnsPersist01 } type = Type::Http01;
  std::string listen = ":80";               // http-01 standalone listener, "HOST:PORT" or ":PORT"
  std::optional<std::string> webroot;       // http-01 via an existing web server instead
  std::string dns_hook;                     // dns-01: executable that publishes the TXT record
  std::optional<Rfc2136> rfc2136;           // dns-01: certagent updates the zone itself (instead of a hook)
  // dns-persist-01: the operator publishes _validation-persist.<name> once; certagent only reads it.
  std::optional<std::string> resolver;      // "HOST:PORT" to read the records from; unset: /etc/resolv.conf
  std::optional<std::string> issuer_domain; // the CA's issuer domain to name; unset: the first the CA offers
  // Which names this entry answers for when "challenge" is a list (docs/policy.md, "A challenge
  // per name"); neither: the default, every name no other entry selects.
  std::vector<std::string> names;           // exact names; "*.example.com" selects only that wildcard
  std::vector<std::string> zones;           // a zone and every name under it (wildcards included)
  std::string at;                           // the entry's policy path ("challenge[1]"), for messages
};
[[nodiscard]] std::string_view to_string(Challenge::Type t);
// Only DNS can prove control of a whole zone: dns-01 and dns-persist-01 validate wildcards.
[[nodiscard]] bool validates_wildcards(Challenge::Type t);

struct Hook {
  std::vector<std::string> argv;            // argv[0] is an absolute path; no shell
  std::chrono::seconds timeout{60};
};

// Where a purpose's bound certificate is materialised for its consumers.
struct PurposeOutput {
  std::optional<std::string> cert, chain, fullchain, key, combined_pem, pkcs12, pkcs12_password_file;
  bool pkcs12_empty_password = false;       // the policy says the bundle has no password
  std::optional<std::string> owner, group;
  unsigned key_mode = 0600;                 // files holding the private key; 0640 when a group is given
  unsigned cert_mode = 0644;                // files holding only public material
  std::vector<Hook> hooks;
  // systemd units certagent asks systemd (over D-Bus, as the unprivileged service user) to
  // reload / restart after the hooks; full names, e.g. "nginx.service". None by default.
  std::vector<std::string> reload_units, restart_units;
  std::optional<ProfileChoice> profile;     // the profile of the certificate bound to this purpose
};

enum class Layout { Shared, Separate, Auto };
[[nodiscard]] std::string_view to_string(Layout l);

// One name a purpose needs, and the rule(s) that asked for it.
struct RequiredName {
  std::string name;
  std::vector<std::string> rules;  // rule ids (Lync presets) or template paths (user templates)
  std::string at{};                // the policy path the name first came from (a value or a template), for messages
};

struct PurposeNames {
  std::string purpose;             // "Default", "WebServicesInternal", ... or a user's name
  std::vector<RequiredName> names; // deterministic order, de-duplicated
};

struct Role {
  std::string id;                  // stable; certificate ids derive from it
  std::string kind;                // "front-end-standard", ..., or "custom"
  Layout layout = Layout::Auto;
  KeyType key = KeyType::EcP256;
  std::optional<ProfileChoice> profile;     // overrides ca.profile for this role's certificates
  std::optional<std::string> primary_name;  // pool FQDN (or server's): first where Default is served
  std::vector<PurposeNames> purposes;       // in preset / file order
};

// Several servers serving the same names, one certificate for them (docs/pool.md): the
// members coordinate through etcd; one member orders, every member installs.
struct EtcdEndpoints {
  std::vector<std::string> endpoints;            // "https://host:port" (never plain http)
  std::string trust_bundle;                      // the CA of the members' certificates
  std::optional<std::string> client_certificate; // with client_key: etcd's --client-cert-auth
  std::optional<std::string> client_key;
};

inline constexpr std::chrono::seconds kDefaultLeaseTtl{10};

struct Pool {
  std::string name;                // [a-z0-9-]; the default prefix is "/certagent/<name>"
  std::string member;              // this server's name in the pool, unique among the members
  EtcdEndpoints etcd;
  std::string prefix;              // every key the pool writes starts with it (no trailing '/')
  std::string key_file;            // the pool's AES-256-GCM key (base64 of 32 bytes), absolute
  // The pool-wide certificates by id; unset: every certificate none of whose names is the
  // server's own FQDN (is_pool_wide in policy/required.hpp).
  std::optional<std::vector<std::string>> certificates;
  std::chrono::seconds lease_ttl = kDefaultLeaseTtl;  // how long a dead leader blocks the others
};

struct Policy {
  std::string file;                // for messages only
  CaConfig ca;
  KeyType key = KeyType::EcP256;
  Renewal renewal;
  std::vector<Challenge> challenges;  // never empty once parsed; see challenge_for (policy/challenge_select.hpp)
  std::vector<std::string> sip_domains;
  std::vector<Role> roles;
  std::map<std::string, PurposeOutput> outputs;  // by purpose name
  std::optional<Pool> pool;                      // unset: this host orders everything alone
};

}  // namespace certagent::policy
