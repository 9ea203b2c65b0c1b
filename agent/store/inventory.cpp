// Reading the whole state directory: what is stored, what is bound, and
// everything that was skipped because the store cannot vouch for it.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <system_error>
#include <unordered_map>

#include <fmt/format.h>

#include "agent/store/fsutil.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/memo.hpp"
#include "agent/store/store.hpp"
#include "agent/store/internal.hpp"
#include "agent/store/verify.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace {

// Entry names of `dir` (without "." and ".."), sorted; a missing directory has none.
Result<std::vector<std::string>> list_names(const fs::path& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return names;
    return fail(ErrorKind::Storage, fmt::format("listing {}: {}", dir.string(), std::strerror(errno)));
  }
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return fail(ErrorKind::Storage, fmt::format("listing {}: {}", dir.string(), std::strerror(err)));
  std::sort(names.begin(), names.end());
  return names;
}

// A directory opened for the *at() calls; fd -1 when it cannot be (callers fall back to paths).
struct DirHandle {
  int fd;
  explicit DirHandle(const fs::path& dir) : fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) {}
  DirHandle(const DirHandle&) = delete;
  DirHandle& operator=(const DirHandle&) = delete;
  ~DirHandle() {
    if (fd >= 0) ::close(fd);
  }
};

// The version id of live/<name> when it is a valid binding certagent made: a purpose name,
// a symlink to ../certs/<version-id>. Anything else: nullopt, and the caller asks
// bound_version_id for the precise reason.
std::optional<std::string> read_target_at(int live_fd, const std::string& name) {
  if (!check_purpose_name(name)) return std::nullopt;
  char buf[256];
  const ssize_t n = ::readlinkat(live_fd, name.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<std::size_t>(n) == sizeof buf) return std::nullopt;
  constexpr std::string_view kPrefix = "../certs/";
  std::string_view target(buf, static_cast<std::size_t>(n));
  if (!target.starts_with(kPrefix) || !is_version_id(target.substr(kPrefix.size()))) return std::nullopt;
  return std::string(target.substr(kPrefix.size()));
}

std::string_view id_of(const StoredVersion& v) { return v.id; }
std::string_view id_of(const std::string& id) { return id; }

constexpr const char* kLeftover = "left over from an interrupted write; ignored";

}  // namespace

namespace {

// The identities of a version's directory and its five files (memo.hpp), relative to certs/
// (`certs_fd`, or the full paths when it could not be opened); nullopt when one cannot be read.
struct VersionStats {
  struct stat st[6];  // the directory, then kVersionFiles
};

std::optional<VersionStats> stat_version(int certs_fd, const fs::path& certs_dir, const std::string& name) {
  VersionStats out{};
  const int at = certs_fd >= 0 ? certs_fd : AT_FDCWD;
  const std::string base = certs_fd >= 0 ? name : (certs_dir / name).string();
  if (::fstatat(at, base.c_str(), &out.st[0], AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(out.st[0].st_mode)) return std::nullopt;
  for (std::size_t i = 0; i < 5; ++i) {
    const std::string file = base + "/" + kVersionFiles[i];
    if (::fstatat(at, file.c_str(), &out.st[i + 1], AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  }
  return out;
}

// The key of the version as `st` shows it.
std::optional<VersionKey> key_now(const VersionStats& st) {
  FileKey keys[6];
  for (std::size_t i = 0; i < 6; ++i) keys[i] = file_key(st.st[i]);
  return version_key(keys);
}

// The key to remember for the version, when its directory and files are all settled (memo.hpp).
std::optional<VersionKey> settled_version_key(const VersionStats& st, std::chrono::system_clock::time_point looked_at) {
  FileKey keys[6];
  for (std::size_t i = 0; i < 6; ++i) {
    auto k = settled_key(st.st[i], looked_at);
    if (!k) return std::nullopt;
    keys[i] = *k;
  }
  return version_key(keys);
}

}  // namespace

// One version for the inventory: from the memo when its directory and five files are as they
// were (no open, no read, no parse), else loaded — and verified in full when the memo knew it
// with other identities: a version is never rewritten, so its files changed behind the store.
Result<StoredVersion> Store::remembered_version(int certs_fd, const std::shared_ptr<const fs::path>& certs_dir,
                                                const std::string& name,
                                                std::chrono::system_clock::time_point looked_at, bool remember,
                                                std::unordered_map<std::string, StoreMemo::Version>& seen) const {
  const auto load = [&] {
    return certs_fd >= 0 ? load_version_at(certs_fd, name.c_str(), certs_dir, name) : load_version(name);
  };
  if (!remember) return load();
  const auto st = stat_version(certs_fd, *certs_dir, name);
  const auto key = st ? key_now(*st) : std::nullopt;
  bool changed = false;
  if (key) {
    std::lock_guard lock(memo_->m);
    if (auto it = memo_->versions.find(name); it != memo_->versions.end()) {
      if (it->second.key == *key) {
        ++memo_->hits;
        auto node = memo_->versions.extract(it);  // moved, not copied: the scan's map becomes the memo
        StoredVersion v{name, certs_dir, node.mapped().meta.meta()};
        seen.insert(std::move(node));
        return v;
      }
      changed = true;
      ++memo_->changed;
    }
  }
  auto v = changed ? verify_version(name) : load();
  if (!v) return v;
  if (changed) module_logger("store")->warn("version {}: its files changed since they were last read; verified again", name);
  if (st)
    if (auto k = settled_version_key(*st, looked_at))
      seen.insert_or_assign(name, StoreMemo::Version{*k, PlanMeta::of(v->meta)});
  return v;
}

Result<Inventory> Store::inventory(InventoryDetail detail) const {
  Inventory inv;
  auto certs = list_names(dir_ / "certs");
  if (!certs) return std::unexpected(certs.error());
  inv.versions.reserve(certs->size());
  const auto certs_dir = std::make_shared<const fs::path>(dir_ / "certs");
  const DirHandle certs_fd(*certs_dir);  // each version opened relative to it (AT_FDCWD if it cannot be)
  const auto looked_at = std::chrono::system_clock::now();  // before any stat (memo.hpp: kSettle)
  bool remember = false;
  if (detail == InventoryDetail::Plan) {
    std::lock_guard lock(memo_->m);
    remember = memo_->remember_versions;
  }
  std::unordered_map<std::string, StoreMemo::Version> seen;  // the memo after this scan: what is still there
  if (remember) seen.reserve(certs->size());
  for (const auto& name : *certs) {
    if (fsutil::is_temp_name(name)) {
      inv.problems.push_back({*certs_dir / name, kLeftover});
    } else if (!is_version_id(name)) {
      inv.problems.push_back({*certs_dir / name, "not a certificate version certagent made; ignored"});
    } else if (auto v = remembered_version(certs_fd.fd, certs_dir, name, looked_at, remember, seen); v) {
      if (detail == InventoryDetail::Plan) keep_plan_fields(v->meta);
      inv.versions.push_back(std::move(*v));
    } else {
      inv.problems.push_back({*certs_dir / name, v.error().message + "; ignored"});
    }
  }
  if (remember) {
    std::lock_guard lock(memo_->m);
    memo_->versions = std::move(seen);  // versions removed since are forgotten
  }
  auto live = list_names(dir_ / "live");
  if (!live) return std::unexpected(live.error());
  inv.bindings.reserve(live->size());
  const DirHandle live_fd(dir_ / "live");
  for (const auto& name : *live) {
    fs::path path = dir_ / "live" / name;
    if (fsutil::is_temp_name(name)) {
      inv.problems.push_back({path, kLeftover});
      continue;
    }
    auto quick = live_fd.fd >= 0 ? read_target_at(live_fd.fd, name) : std::nullopt;
    auto id = quick ? Result<std::optional<std::string>>(std::move(quick))
              : check_purpose_name(name) ? bound_version_id(*this, name)
                                         : fail(ErrorKind::Storage, "not a purpose name");
    if (!id || !*id) {
      inv.problems.push_back({path, (id ? std::string("gone") : id.error().message) + "; not a binding certagent made; ignored"});
      continue;
    }
    // Complete when the scan above loaded it (each version is read once, not once per purpose).
    const bool complete = std::binary_search(inv.versions.begin(), inv.versions.end(), **id,
                                             [](const auto& a, const auto& b) { return id_of(a) < id_of(b); });
    if (!complete) inv.problems.push_back({path, "bound to version " + **id + ", which is missing or incomplete"});
    inv.bindings.push_back(Binding{name, std::move(**id), complete});
  }
  return inv;
}

Result<std::vector<fs::path>> Store::remove_stale_temporaries(std::chrono::seconds min_age) {
  if (auto r = require_writable("removing stale temporaries"); !r) return std::unexpected(r.error());
  std::vector<fs::path> dirs = {dir_, dir_ / "certs", dir_ / "live", dir_ / "orders", dir_ / "notify", dir_ / "schedule", dir_ / "ari"};
  auto accounts = list_names(dir_ / "accounts");
  if (!accounts) return std::unexpected(accounts.error());
  for (const auto& a : *accounts) dirs.push_back(dir_ / "accounts" / a);
  auto now = std::chrono::system_clock::now();
  std::vector<fs::path> removed;
  for (const auto& dir : dirs) {
    auto names = list_names(dir);
    if (!names) return std::unexpected(names.error());
    for (const auto& name : *names) {
      struct stat st {};
      fs::path path = dir / name;
      if (!fsutil::is_temp_name(name) || ::lstat(path.c_str(), &st) != 0) continue;
      auto mtime = std::chrono::system_clock::from_time_t(st.st_mtime);
      if (now - mtime < min_age) continue;
      std::error_code ec;
      fs::remove_all(path, ec);  // does not follow symlinks
      if (ec) return fail(ErrorKind::Storage, fmt::format("removing {}: {}", path.string(), ec.message()));
      module_logger("store")->info("removed {}, {}", path.string(), kLeftover);
      removed.push_back(path);
    }
  }
  return removed;
}

}  // namespace certagent::agent
