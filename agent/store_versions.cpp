// Certificate versions: certs/<version-id>/, written into a temporary
// directory, fsynced, and renamed into place whole.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "agent/fault.hpp"
#include "agent/fsutil.hpp"
#include "agent/logging.hpp"
#include "agent/store.hpp"
#include "agent/store_verify.hpp"
#include "protocol/keys.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMetaCap = 256 * 1024;
constexpr const char* kFiles[] = {"privkey.pem", "cert.pem", "chain.pem", "fullchain.pem", "meta.json"};

std::string with_newline(std::string s) {
  if (!s.empty() && s.back() != '\n') s.push_back('\n');
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Error injected(std::string_view point) {
  return Error(ErrorKind::Storage, fmt::format("injected fault at {}", point));
}

// Checks the input and fills the facts the store takes from the certificate.
Result<CertificateMeta> prepare(const NewVersion& v) {
  auto leaf = parse_leaf(v.leaf_pem);
  if (!leaf) return std::unexpected(leaf.error());
  if (auto chain = parse_chain(v.chain_pem); !chain) return std::unexpected(chain.error());
  if (auto r = check_key_matches(v.key_pem, v.leaf_pem); !r) return std::unexpected(r.error());
  CertificateMeta m = v.meta;
  if (!m.thumbprint.empty() && m.thumbprint != leaf->info().sha1_thumbprint)
    return fail(ErrorKind::Invalid, "the metadata's thumbprint is not the certificate's");
  fill_from_certificate(m, leaf->info());
  if (m.key_type.empty()) {
    auto key = protocol::PrivateKey::from_pem(v.key_pem);
    if (!key) return std::unexpected(key.error());
    m.key_type = std::string(protocol::to_string(key->type()));
  }
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

Result<void> write_version_dir(const fs::path& tmp, const NewVersion& v, const CertificateMeta& m) {
  if (::mkdir(tmp.c_str(), 0700) != 0) return std::unexpected(fsutil::errno_error("creating directory", tmp, errno));
  std::string leaf = with_newline(v.leaf_pem);
  std::string chain = with_newline(v.chain_pem);
  struct Item { const char* name; std::string data; mode_t mode; };
  Item items[] = {{"privkey.pem", with_newline(v.key_pem), 0600},
                  {"cert.pem", leaf, 0644},
                  {"chain.pem", chain, 0644},
                  {"fullchain.pem", leaf + chain, 0644},
                  {"meta.json", boost::json::serialize(to_json(m)) + "\n", 0644}};
  for (const auto& item : items) {
    if (auto r = fsutil::write_new_file(tmp / item.name, item.data, item.mode); !r) return r;
    if (fault_point(std::string("store.version.after_") + item.name)) return std::unexpected(injected(item.name));
  }
  return fsutil::fsync_dir(tmp);
}

}  // namespace

Result<std::string> Store::add_version(const NewVersion& v) {
  if (auto r = require_writable("storing a certificate"); !r) return std::unexpected(r.error());
  auto meta = prepare(v);
  if (!meta) return std::unexpected(meta.error().context("storing a certificate"));
  std::string id = make_version_id(meta->not_before, meta->sha256);
  const std::string what = "storing certificate " + meta->thumbprint + " as version " + id;
  fs::path certs = dir_ / "certs";
  auto kind = fsutil::entry_kind(certs / id);
  if (!kind) return std::unexpected(kind.error().context(what));
  if (*kind != fsutil::EntryKind::Missing) {
    auto existing = verify_version(id);
    if (existing && existing->meta.sha256 == meta->sha256) return id;  // stored before (e.g. a run that crashed)
    return fail(ErrorKind::Storage, what + ": " + (certs / id).string() +
                                        " exists but is not a complete copy of it; left untouched for inspection");
  }
  fs::path tmp = certs / fsutil::temp_name(id);
  auto written = write_version_dir(tmp, v, *meta);
  if (written && fault_point("store.version.before_rename")) written = std::unexpected(injected("before_rename"));
  if (written && ::rename(tmp.c_str(), (certs / id).c_str()) != 0)
    written = std::unexpected(fsutil::errno_error("renaming into place", certs / id, errno));
  if (!written) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return std::unexpected(written.error().context(what));
  }
  if (auto r = fsutil::fsync_dir(certs); !r) return std::unexpected(r.error().context(what));
  module_logger("store")->info("stored version {} (thumbprint {})", id, meta->thumbprint);
  return id;
}

Result<StoredVersion> Store::load_version(std::string_view id) const {
  if (!is_version_id(id)) return fail(ErrorKind::Invalid, fmt::format("\"{}\" is not a version id", id));
  fs::path dir = dir_ / "certs" / std::string(id);
  const std::string what = "loading version " + dir.string();
  auto kind = fsutil::entry_kind(dir);
  if (!kind) return std::unexpected(kind.error().context(what));
  if (*kind != fsutil::EntryKind::Directory)
    return fail(ErrorKind::Storage, what + ": " + (*kind == fsutil::EntryKind::Missing ? "it does not exist" : "not a directory"));
  for (const char* f : kFiles) {
    auto k = fsutil::entry_kind(dir / f);
    if (!k || *k != fsutil::EntryKind::File) return fail(ErrorKind::Storage, what + ": " + f + " is missing or not a regular file");
  }
  auto text = fsutil::read_file(dir / "meta.json", kMetaCap);
  if (!text) return std::unexpected(text.error().context(what));
  auto meta = meta_from_json(*text);
  if (!meta) return std::unexpected(meta.error().context(what + ": meta.json"));
  if (!lower(meta->sha256).starts_with(id.substr(17)))
    return fail(ErrorKind::Storage, what + ": meta.json's sha256 does not match the version id");
  return StoredVersion{std::string(id), dir, std::move(*meta)};
}

Result<StoredVersion> Store::verify_version(std::string_view id) const {
  auto v = load_version(id);
  if (!v) return v;
  const std::string what = "verifying version " + v->dir.string();
  std::string text[4];
  for (int i = 0; i < 4; ++i) {
    auto t = fsutil::read_file(v->dir / kFiles[i]);
    if (!t) return std::unexpected(t.error().context(what));
    text[i] = std::move(*t);
  }
  auto leaf = parse_leaf(text[1]);
  if (!leaf) return std::unexpected(leaf.error().context(what + ": cert.pem"));
  if (leaf->info().sha1_thumbprint != v->meta.thumbprint || leaf->info().sha256_fingerprint != v->meta.sha256)
    return fail(ErrorKind::Storage, what + ": meta.json's fingerprints are not cert.pem's");
  if (auto r = check_key_matches(text[0], text[1]); !r) return std::unexpected(r.error().context(what));
  auto chain = fingerprints(text[2]);
  auto full = fingerprints(text[3]);
  if (!chain || !full) return fail(ErrorKind::Storage, what + ": chain.pem or fullchain.pem is not PEM certificates");
  chain->insert(chain->begin(), leaf->info().sha256_fingerprint);
  if (*chain != *full) return fail(ErrorKind::Storage, what + ": fullchain.pem is not cert.pem followed by chain.pem");
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
