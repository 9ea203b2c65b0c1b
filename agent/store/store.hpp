#pragma once
// The state directory: ACME accounts, immutable certificate versions, and the
// bindings of purposes to versions. Layout (docs/operations.md, "State directory"):
//
//   <state>/lock                                  flock; the holder's PID
//   <state>/accounts/<sha256(directory URL)[:32]>/{account.json, account.key}
//   <state>/certs/<version-id>/{privkey.pem, cert.pem, chain.pem, fullchain.pem, meta.json}
//   <state>/live/<purpose> -> ../certs/<version-id>
//
// The live symlinks are the one source of truth for bindings. Every write is
// crash-safe; anything the store did not write is reported, never trusted,
// never deleted.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/store/certificate_meta.hpp"
#include "agent/store/lock.hpp"
#include "common/error.hpp"

namespace certagent::protocol {
class Certificate;
class PrivateKey;
}  // namespace certagent::protocol

namespace certagent::agent {

struct StoreMemo;  // what the store remembers of the files it parsed (agent/store/memo.hpp)
struct StoreMemoVersion;

// Something in the state directory the store did not trust and skipped.
struct Problem {
  std::filesystem::path path;
  std::string what;
};

struct Account {
  std::string directory_url;          // the CA's directory (RFC 8555 §7.1.1)
  std::string account_url;            // the account's URL (§7.3); empty while not yet registered
  std::vector<std::string> contacts;  // "mailto:..."
  std::string key_pem;                // the account key, PKCS#8 PEM
  // The CA's orders list was not shaped as RFC 8555 §7.1.2.1 says (step-ca 0.19: a bare
  // array, and reading it breaks the account): it is not read again for this CA.
  bool orders_list_unusable = false;
};

struct NewVersion {
  std::string key_pem;
  std::string leaf_pem;   // exactly one certificate
  std::string chain_pem;  // the issuers, leaf's issuer first; may be empty
  // The caller sets certificate_id and order_url (and may set key_type); names,
  // subject, issuer, validity, thumbprint, sha256 and serial are taken from leaf_pem.
  CertificateMeta meta;
};

struct StoredVersion {
  std::string id;
  std::shared_ptr<const std::filesystem::path> certs;  // <state>/certs, one for every version of a scan
  CertificateMeta meta;
  // <state>/certs/<id>, made when asked (a path per version held was a tenth of a pass's memory at
  // 10,000 certificates: issue 26).
  [[nodiscard]] std::filesystem::path dir() const { return certs ? *certs / id : std::filesystem::path(id); }
};

// How much of each version's meta.json an inventory keeps. Plan: what the engine's pass and
// `plan` read — certificate_id, names, not_before, not_after, thumbprint, key_type, profile and
// stored_at; subject, issuer, sha256, serial and order_url are left empty (issue 26: they were a
// third of the memory a pass held per certificate at 10,000).
enum class InventoryDetail { Full, Plan };

struct Binding {
  std::string purpose;
  std::string version_id;  // what the live symlink names
  bool complete = false;   // the named version exists and is complete
};

struct Inventory {
  std::vector<StoredVersion> versions;  // complete versions, sorted by id (oldest first)
  std::vector<Binding> bindings;        // sorted by purpose
  std::vector<Problem> problems;        // skipped entries, with why
};

struct OpenOptions {
  bool write = false;                           // create the directory and take the writer lock
  std::chrono::milliseconds lock_wait{0};       // 0: fail at once when another agent writes
};

class Store {
 public:
  [[nodiscard]] static Result<Store> open(const std::filesystem::path& state_dir, const OpenOptions& options = {});

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] bool writable() const { return lock_.has_value(); }
  // The daemon holds the writer lock only during a pass, so that `assign`, `request`, `revoke`
  // and `run --once` can write between passes: it lets the lock go after each pass and takes it
  // again, waiting at most `wait` (a set `cancel` ends the wait), before the next. Only for a
  // store opened for writing; the caller is the one thread that writes.
  void release_writer_lock() { lock_.reset(); }
  [[nodiscard]] Result<void> take_writer_lock(std::chrono::milliseconds wait, const std::atomic<bool>* cancel);

  // Accounts, one per CA directory URL. The key is written (0600) before account.json.
  [[nodiscard]] Result<void> save_account(const Account& account);
  [[nodiscard]] Result<std::optional<Account>> load_account(std::string_view directory_url) const;
  // Keeps an account being replaced (its key, 0600, and URL) beside the new one, as
  // accounts/<dir>/retired-<unix time>.{key,json}: certificates it ordered can still be
  // revoked with it.
  [[nodiscard]] Result<void> retire_account(const Account& account, std::int64_t unix_time);

  // Stores a version (atomically: it exists complete or not at all) and
  // returns its id. Refuses a key that does not match the certificate and
  // PEM that holds anything but certificates. Storing the same certificate
  // again returns the existing id. The files are read back and compared with
  // what was checked, and the version counts as verified (verify_version).
  [[nodiscard]] Result<std::string> add_version(const NewVersion& version);
  // The same from objects already parsed (an order's key and its downloaded
  // chain, leaf first): nothing is decoded again; the store writes their PEM.
  [[nodiscard]] Result<std::string> add_version(const protocol::PrivateKey& key,
                                                std::span<const protocol::Certificate> chain, CertificateMeta meta);
  [[nodiscard]] Result<StoredVersion> load_version(std::string_view id) const;
  // Everything load_version checks, plus: the key matches cert.pem,
  // meta.json's fingerprints are cert.pem's, fullchain.pem is cert.pem
  // followed by chain.pem. Every call reads the five files; a version whose
  // bytes are those it had when it was last verified (or written by
  // add_version) — compared by SHA-256 — is not parsed again: the same bytes
  // pass the same checks. Any changed byte means a full verification.
  [[nodiscard]] Result<StoredVersion> verify_version(std::string_view id) const;
  // Drops what verify_version remembers (the engine does at the end of each
  // pass, so an idle daemon holds nothing). Full verifications so far: tests.
  void forget_verified() const;
  [[nodiscard]] std::size_t full_verifications() const;
  // SHA-1 (as Windows prints it, spaces and case ignored) or SHA-256.
  [[nodiscard]] Result<std::optional<StoredVersion>> find_by_thumbprint(std::string_view thumbprint) const;

  // When a switch of live/ must be durable: before bind returns (Now), or
  // once the caller fsyncs live/ itself (Caller: the engine, at the end of
  // its pass, for purposes nothing is told about — a switch lost to a power
  // failure before that only leaves the purpose on its previous version,
  // which the next pass binds again).
  enum class LiveSync { Now, Caller };
  // Points each purpose at the version, one atomic rename per purpose, after
  // verify_version. Returns each purpose's previous version id ("" if none).
  [[nodiscard]] Result<std::map<std::string, std::string>> bind(std::span<const std::string> purposes,
                                                                std::string_view id, LiveSync sync = LiveSync::Now);
  [[nodiscard]] Result<void> unbind(std::span<const std::string> purposes);
  [[nodiscard]] Result<std::optional<Binding>> binding(std::string_view purpose) const;

  // Versions, bindings and problems, in one scan. With remember_versions(), a Plan scan does not
  // read again a version whose directory and five files have the identity (inode, size, mtime,
  // ctime: agent/store/memo.hpp) they had at an earlier Plan scan by this Store; one whose files
  // changed since is verified in full (verify_version), so a certificate or key edited behind
  // the store's back is reported. A Full scan always reads every version.
  [[nodiscard]] Result<Inventory> inventory(InventoryDetail detail = InventoryDetail::Full) const;
  // From now on inventory() remembers the versions it read (off by default: a command that scans
  // the store once gains nothing from it; the daemon turns it on, its passes scan again and again).
  void remember_versions();
  // The memo of parsed files behind inventory(); for the store's own files.
  [[nodiscard]] StoreMemo& memo() const { return *memo_; }
  // Versions found unchanged in the memo, and found changed behind the store's
  // back, so far: tests.
  [[nodiscard]] std::size_t memo_hits() const;
  [[nodiscard]] std::size_t memo_changes() const;

  // Removes certagent's own temporaries (".tmp-…-<pid>-<hex>") left by a
  // crash in the state directory, certs/, live/, orders/, notify/, schedule/,
  // ari/ and accounts/*, when older than `min_age`. Needs
  // the writer lock. Returns what it removed.
  [[nodiscard]] Result<std::vector<std::filesystem::path>> remove_stale_temporaries(std::chrono::seconds min_age);

  // <state>/live/<purpose>: the stable directory consumers read.
  [[nodiscard]] std::filesystem::path live_path(std::string_view purpose) const;

  // The directories whose removals and LiveSync::Caller switches an engine pass makes durable
  // with one fsync each at its end: orders/, notify/ and live/, those that exist.
  [[nodiscard]] std::vector<std::filesystem::path> pass_sync_dirs() const;

 private:
  struct Verified;  // the verification memo (agent/store/versions.cpp)
  struct Prepared;
  Store(std::filesystem::path dir, std::optional<StateLock> lock);
  [[nodiscard]] Result<void> require_writable(std::string_view what) const;
  [[nodiscard]] Result<std::string> store_prepared(const Prepared& p);
  [[nodiscard]] Result<StoredVersion> remembered_version(int certs_fd,
                                                         const std::shared_ptr<const std::filesystem::path>& certs_dir,
                                                         const std::string& name,
                                                         std::chrono::system_clock::time_point looked_at, bool remember,
                                                         std::unordered_map<std::string, StoreMemoVersion>& seen) const;

  std::filesystem::path dir_;
  std::optional<StateLock> lock_;
  std::shared_ptr<Verified> verified_;
  std::shared_ptr<StoreMemo> memo_;
};

// Purpose names are file names: 1–64 of [A-Za-z0-9._-], not starting with '.'.
[[nodiscard]] Result<void> check_purpose_name(std::string_view purpose);
// "<notBefore as YYYYMMDDTHHMMSSZ>-<first 16 hex digits of SHA-256, lower case>"
[[nodiscard]] std::string make_version_id(std::chrono::sys_seconds not_before, std::string_view sha256_hex);
[[nodiscard]] bool is_version_id(std::string_view s);
// The directory name under accounts/ for a CA directory URL.
[[nodiscard]] std::string account_dir_name(std::string_view directory_url);

}  // namespace certagent::agent
