// Certificate versions: certs/<version-id>/, written into a temporary
// directory, flushed, and renamed into place whole.
//
// Why a crash never leaves a half-written version bound (the flushes, in order):
//  1. the five files are created and written in a temporary directory;
//  2. one syncfs (fsutil::FilesystemSync) makes them, and the directory's
//     five entries, durable;
//  3. it is renamed to certs/<id> and certs/ is fsynced: the version is
//     durable, whole, before add_version returns;
//  4. only then can Store::bind rename a live/<purpose> symlink to it, and it
//     fsyncs live/ before it returns, so the hooks (rebind.cpp) run only after
//     the switch is durable.
// A crash before 3 leaves a ".tmp-" directory nobody names (removed by the
// next pass); a crash between 3 and 4 leaves an unbound complete version. None
// of these flushes is left out: each is what the next step relies on.
// What this file saves is CPU: a version is parsed once (verify_version).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <iterator>
#include <mutex>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/memo.hpp"
#include "agent/store/store.hpp"
#include "agent/store/internal.hpp"
#include "agent/store/verify.hpp"
#include "protocol/x509/keys.hpp"
#include "common/text.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMetaCap = 256 * 1024;
constexpr const auto& kFiles = kVersionFiles;

std::string with_newline(std::string s) {
  if (!s.empty() && s.back() != '\n') s.push_back('\n');
  return s;
}


Error injected(std::string_view point) {
  return Error(ErrorKind::Storage, fmt::format("injected fault at {}", point));
}

// The key and certificate text exactly as they are written, with the meta
// the store takes from the certificate.
struct Texts {
  std::string key, leaf, chain;
};

// Fills the facts the store takes from the certificate; the key matches it.
Result<CertificateMeta> facts(const protocol::Certificate& leaf, const protocol::PrivateKey& key, CertificateMeta m) {
  if (auto r = protocol::check_key_matches(leaf, key); !r)
    return fail(ErrorKind::Crypto, "the private key does not belong to the certificate (" + r.error().message + ")");
  if (!m.thumbprint.empty() && m.thumbprint != leaf.info().sha1_thumbprint)
    return fail(ErrorKind::Invalid, "the metadata's thumbprint is not the certificate's");
  fill_from_certificate(m, leaf.info());
  if (m.key_type.empty()) m.key_type = std::string(protocol::to_string(key.type()));
  m.stored_at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return m;
}

// The SHA-256 fingerprints of the certificates in `pem`, in order.
Result<std::vector<std::string>> fingerprints(std::string_view pem) {
  auto certs = parse_chain(pem);
  if (!certs) return std::unexpected(certs.error());
  std::vector<std::string> out;
  for (const auto& c : *certs) out.push_back(c.info().sha256_fingerprint);
  return out;
}

// What identifies a version's content: SHA-256 over its five files, each with its length.
std::string content_digest(const std::array<std::string, 5>& text) {
  std::string all;
  for (const auto& t : text) all += std::to_string(t.size()) + ":" + t;
  return sha256_hex(all);
}

Result<std::array<std::string, 5>> read_version_files(const fs::path& dir) {
  std::array<std::string, 5> text;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto t = fsutil::read_file(dir / kFiles[i], i == 4 ? kMetaCap : fsutil::kDefaultReadCap);
    if (!t) return std::unexpected(t.error());
    text[i] = std::move(*t);
  }
  return text;
}

// The checks verify_version makes on a version's files (privkey, cert, chain, fullchain, meta).
Result<void> check_version_files(const StoredVersion& v, const std::array<std::string, 5>& text) {
  auto leaf = parse_leaf(text[1]);
  if (!leaf) return std::unexpected(leaf.error().context("cert.pem"));
  if (leaf->info().sha1_thumbprint != v.meta.thumbprint || leaf->info().sha256_fingerprint != v.meta.sha256)
    return fail(ErrorKind::Storage, "meta.json's fingerprints are not cert.pem's");
  auto key = protocol::PrivateKey::from_pem(text[0]);
  if (!key) return std::unexpected(key.error().context("reading the private key"));
  if (auto r = protocol::check_key_matches(*leaf, *key); !r)
    return fail(ErrorKind::Crypto, "the private key does not belong to the certificate (" + r.error().message + ")");
  auto chain = parse_chain(text[2]);
  if (!chain) return fail(ErrorKind::Storage, "chain.pem or fullchain.pem is not PEM certificates");
  if (text[3] == text[1] + text[2]) return ok();  // as the store writes it: no need to parse it again
  auto full = fingerprints(text[3]);
  if (!full) return fail(ErrorKind::Storage, "chain.pem or fullchain.pem is not PEM certificates");
  std::vector<std::string> want{leaf->info().sha256_fingerprint};
  for (const auto& c : *chain) want.push_back(c.info().sha256_fingerprint);
  if (want != *full) return fail(ErrorKind::Storage, "fullchain.pem is not cert.pem followed by chain.pem");
  return ok();
}

// The five files of a version, in kFiles order.
std::array<std::string, 5> version_files(const Texts& t, const CertificateMeta& m) {
  return {t.key, t.leaf, t.chain, t.leaf + t.chain, boost::json::serialize(to_json(m)) + "\n"};
}

// The five files are created and written, then one syncfs makes them and the
// directory's entries durable together: the version is complete on disk
// before anything can name it. (One fsync per file and one for the directory
// took 3-4x as long on ext4: see fsutil::FilesystemSync.)
Result<void> write_version_dir(const fs::path& tmp, const std::array<std::string, 5>& files) {
  if (::mkdir(tmp.c_str(), 0700) != 0) return std::unexpected(fsutil::errno_error("creating directory", tmp, errno));
  auto durable = fsutil::FilesystemSync::open(tmp);  // before the writes: see FilesystemSync
  if (!durable) return std::unexpected(durable.error());
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (auto r = fsutil::write_new_file_unflushed(tmp / kFiles[i], files[i], i == 0 ? 0600 : 0644); !r) return r;
    if (fault_point(std::string("store.version.after_") + kFiles[i])) return std::unexpected(injected(kFiles[i]));
  }
  return durable->sync();
}

// Closes a descriptor at scope exit.
struct DirFd {
  int fd;
  explicit DirFd(int f) : fd(f) {}
  DirFd(const DirFd&) = delete;
  DirFd& operator=(const DirFd&) = delete;
  ~DirFd() {
    if (fd >= 0) ::close(fd);
  }
};

// meta.json of the open version directory `dfd`, refusing a symlink and more than kMetaCap bytes.
Result<std::string> read_meta(int dfd, const fs::path& dir) {
  const fs::path file = dir / "meta.json";
  DirFd f(::openat(dfd, "meta.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (f.fd < 0) return std::unexpected(fsutil::errno_error("opening", file, errno));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(fsutil::errno_error("reading", file, errno));
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > kMetaCap)
      return fail(ErrorKind::Storage, fmt::format("{} is larger than {} bytes; refusing to read it", file.string(), kMetaCap));
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool is_regular_at(int dfd, const char* name) {
  struct stat st {};
  return ::fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

// Which of the five files the open version directory `dfd` holds as regular files, from one
// listing of it (getdents64 with the entries' types: two calls) instead of five fstatat, which
// were a sixth of `plan`'s time at 10,000 versions (issue 26). An entry whose type the file
// system does not give, or a directory that cannot be listed, is looked at with fstatat.
std::array<bool, std::size(kFiles)> regular_files(int dfd) {
  std::array<bool, std::size(kFiles)> found{};
  alignas(struct dirent64) char buf[4096];
  for (;;) {
    const ssize_t n = ::getdents64(dfd, buf, sizeof buf);
    if (n < 0) {
      for (std::size_t i = 0; i < found.size(); ++i) found[i] = is_regular_at(dfd, kFiles[i]);
      return found;
    }
    if (n == 0) return found;
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(buf + off);
      off += e->d_reclen;
      for (std::size_t i = 0; i < found.size(); ++i)
        if (std::strcmp(e->d_name, kFiles[i]) == 0)
          found[i] = e->d_type == DT_REG || (e->d_type == DT_UNKNOWN && is_regular_at(dfd, kFiles[i]));
    }
  }
}

}  // namespace

// Versions are immutable; each one verify_version (or add_version) found
// good is kept by version id as the SHA-256 of its five files' bytes.
struct Store::Verified {
  std::mutex m;
  std::map<std::string, std::string, std::less<>> entries;
  std::size_t full = 0;
};

struct Store::Prepared {
  Texts texts;
  CertificateMeta meta;
};

Store::Store(fs::path dir, std::optional<StateLock> lock)
    : dir_(std::move(dir)), lock_(std::move(lock)), verified_(std::make_shared<Verified>()),
      memo_(std::make_shared<StoreMemo>()) {}

void Store::forget_verified() const {
  std::lock_guard lock(verified_->m);
  verified_->entries.clear();
}

std::size_t Store::full_verifications() const {
  std::lock_guard lock(verified_->m);
  return verified_->full;
}

Result<std::string> Store::add_version(const NewVersion& v) {
  if (auto r = require_writable("storing a certificate"); !r) return std::unexpected(r.error());
  auto leaf = parse_leaf(v.leaf_pem);
  if (!leaf) return std::unexpected(leaf.error().context("storing a certificate"));
  if (auto chain = parse_chain(v.chain_pem); !chain) return std::unexpected(chain.error().context("storing a certificate"));
  auto key = protocol::PrivateKey::from_pem(v.key_pem);
  if (!key) return std::unexpected(key.error().context("storing a certificate: reading the private key"));
  auto meta = facts(*leaf, *key, v.meta);
  if (!meta) return std::unexpected(meta.error().context("storing a certificate"));
  return store_prepared(Prepared{{with_newline(v.key_pem), with_newline(v.leaf_pem), with_newline(v.chain_pem)}, *meta});
}

Result<std::string> Store::add_version(const protocol::PrivateKey& key, std::span<const protocol::Certificate> chain,
                                       CertificateMeta meta) {
  if (auto r = require_writable("storing a certificate"); !r) return std::unexpected(r.error());
  if (chain.empty()) return fail(ErrorKind::Invalid, "storing a certificate: there is no certificate");
  auto checked = facts(chain.front(), key, std::move(meta));
  auto key_pem = key.to_pem();
  auto leaf = protocol::to_pem_chain(chain.first(1));
  auto rest = chain.size() > 1 ? protocol::to_pem_chain(chain.subspan(1)) : Result<std::string>{""};
  if (!checked || !key_pem || !leaf || !rest)
    return std::unexpected((!checked ? checked.error() : !key_pem ? key_pem.error() : !leaf ? leaf.error() : rest.error())
                               .context("storing a certificate"));
  return store_prepared(Prepared{{with_newline(*key_pem), with_newline(*leaf), with_newline(*rest)}, *checked});
}

Result<std::string> Store::store_prepared(const Prepared& p) {
  std::string id = make_version_id(p.meta.not_before, p.meta.sha256);
  const std::string what = "storing certificate " + p.meta.thumbprint + " as version " + id;
  fs::path certs = dir_ / "certs";
  auto kind = fsutil::entry_kind(certs / id);
  if (!kind) return std::unexpected(kind.error().context(what));
  if (*kind != fsutil::EntryKind::Missing) {
    auto existing = verify_version(id);
    if (existing && existing->meta.sha256 == p.meta.sha256) return id;  // stored before (e.g. a run that crashed)
    return fail(ErrorKind::Storage, what + ": " + (certs / id).string() +
                                        " exists but is not a complete copy of it; left untouched for inspection");
  }
  const auto files = version_files(p.texts, p.meta);
  fs::path tmp = certs / fsutil::temp_name(id);
  auto written = write_version_dir(tmp, files);
  if (written && fault_point("store.version.before_rename")) written = std::unexpected(injected("before_rename"));
  if (written && ::rename(tmp.c_str(), (certs / id).c_str()) != 0)
    written = std::unexpected(fsutil::errno_error("renaming into place", certs / id, errno));
  if (!written) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return std::unexpected(written.error().context(what));
  }
  if (auto r = fsutil::fsync_dir(certs); !r) return std::unexpected(r.error().context(what));
  // Read back: the files hold exactly the bytes that were checked above, so
  // they count as verified (verify_version does not parse them again).
  auto back = read_version_files(certs / id);
  if (!back) return std::unexpected(back.error().context(what + ": reading it back"));
  if (*back != files) return fail(ErrorKind::Storage, what + ": what was read back is not what was written");
  {
    std::lock_guard lock(verified_->m);
    verified_->entries.insert_or_assign(id, content_digest(files));
  }
  module_logger("store")->info("stored version {} (thumbprint {})", id, p.meta.thumbprint);
  return id;
}

Result<StoredVersion> Store::load_version(std::string_view id) const {
  if (!is_version_id(id)) return fail(ErrorKind::Invalid, fmt::format("\"{}\" is not a version id", id));
  auto certs = std::make_shared<const fs::path>(dir_ / "certs");
  const std::string rel = (*certs / std::string(id)).native();
  return load_version_at(AT_FDCWD, rel.c_str(), std::move(certs), id);
}

// `at_fd` + `rel` name the version directory (relative to certs/ when the
// inventory opened it once, so the kernel walks one path component, not all).
Result<StoredVersion> load_version_at(int at_fd, const char* rel, std::shared_ptr<const fs::path> certs,
                                      std::string_view id) {
  const fs::path dir = *certs / std::string(id);
  const std::string what = "loading version " + dir.string();
  // One open of the directory (never through a symlink), then each file by name inside it.
  DirFd d(::openat(at_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (d.fd < 0) {
    if (errno == ENOENT) return fail(ErrorKind::Storage, what + ": it does not exist");
    if (errno == ENOTDIR || errno == ELOOP) return fail(ErrorKind::Storage, what + ": not a directory");
    return std::unexpected(fsutil::errno_error("opening", dir, errno).context(what));
  }
  const auto regular = regular_files(d.fd);
  for (std::size_t i = 0; i < std::size(kFiles); ++i)
    if (!regular[i]) return fail(ErrorKind::Storage, what + ": " + kFiles[i] + " is missing or not a regular file");
  auto text = read_meta(d.fd, dir);
  if (!text) return std::unexpected(text.error().context(what));
  auto meta = meta_from_json(*text);
  if (!meta) return std::unexpected(meta.error().context(what + ": meta.json"));
  if (!ascii_lower(meta->sha256).starts_with(id.substr(17)))
    return fail(ErrorKind::Storage, what + ": meta.json's sha256 does not match the version id");
  return StoredVersion{std::string(id), std::move(certs), std::move(*meta)};
}

void keep_plan_fields(CertificateMeta& meta) {
  for (std::string* field : {&meta.subject, &meta.issuer, &meta.sha256, &meta.serial, &meta.order_url})
    std::string().swap(*field);  // the memory too, not only the length
}

Result<StoredVersion> Store::verify_version(std::string_view id) const {
  auto v = load_version(id);
  if (!v) return v;
  const fs::path dir = v->dir();
  const std::string what = "verifying version " + dir.string();
  auto text = read_version_files(dir);
  if (!text) return std::unexpected(text.error().context(what));
  const std::string digest = content_digest(*text);
  {
    std::lock_guard lock(verified_->m);
    if (auto it = verified_->entries.find(id); it != verified_->entries.end() && it->second == digest)
      return v;  // the very bytes verified before
    ++verified_->full;
  }
  if (auto r = check_version_files(*v, *text); !r) return std::unexpected(r.error().context(what));
  std::lock_guard lock(verified_->m);
  verified_->entries.insert_or_assign(std::string(id), digest);
  return v;
}

Result<std::optional<StoredVersion>> Store::find_by_thumbprint(std::string_view thumbprint) const {
  auto want = normalize_thumbprint(thumbprint);
  if (!want) return std::unexpected(want.error());
  auto inv = inventory();
  if (!inv) return std::unexpected(inv.error());
  for (auto& v : inv->versions)
    if ((want->size() == 40 ? v.meta.thumbprint : v.meta.sha256) == *want) return std::move(v);
  return std::nullopt;
}

}  // namespace certagent::agent
