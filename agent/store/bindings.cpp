// Bindings: live/<purpose> is a symlink to ../certs/<version-id>. A switch is
// a new symlink under a temporary name renamed over the old one, so a reader
// resolving live/<purpose>/... sees the old version or the new one, whole.
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/store.hpp"
#include "agent/store/verify.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kTargetPrefix = "../certs/";

// The version id a live symlink names, or an error saying why it is not ours.
Result<std::string> read_binding_target(const fs::path& link) {
  char buf[256];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n < 0) return std::unexpected(fsutil::errno_error("reading the symlink", link, errno));
  std::string_view target(buf, static_cast<std::size_t>(n));
  if (static_cast<std::size_t>(n) == sizeof buf || !target.starts_with(kTargetPrefix) ||
      !is_version_id(target.substr(kTargetPrefix.size())))
    return fail(ErrorKind::Storage, link.string() + " points somewhere other than ../certs/<version-id>");
  return std::string(target.substr(kTargetPrefix.size()));
}

Result<void> switch_link(const fs::path& live, const std::string& purpose, const std::string& id) {
  fs::path tmp = live / fsutil::temp_name(purpose);
  std::string target = std::string(kTargetPrefix) + id;
  if (::symlink(target.c_str(), tmp.c_str()) != 0)
    return std::unexpected(fsutil::errno_error("creating the symlink", tmp, errno));
  if (fault_point("store.bind.before_rename")) {
    ::unlink(tmp.c_str());
    return fail(ErrorKind::Storage, "injected fault at store.bind.before_rename");
  }
  if (::rename(tmp.c_str(), (live / purpose).c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return std::unexpected(fsutil::errno_error("switching", live / purpose, e));
  }
  return ok();
}

// Each purpose is a valid name and live/<purpose> is absent or a symlink
// (never replace something the store did not create). Returns the current ids.
Result<std::map<std::string, std::string>> current_targets(const fs::path& live, std::span<const std::string> purposes) {
  std::map<std::string, std::string> previous;
  for (const auto& p : purposes) {
    if (auto r = check_purpose_name(p); !r) return std::unexpected(r.error().context("purpose \"" + p + "\""));
    auto kind = fsutil::entry_kind(live / p);
    if (!kind) return std::unexpected(kind.error());
    if (*kind == fsutil::EntryKind::Missing) {
      previous[p] = "";
      continue;
    }
    if (*kind != fsutil::EntryKind::Symlink)
      return fail(ErrorKind::Storage, (live / p).string() + " is not a symlink certagent made; left untouched");
    auto id = read_binding_target(live / p);
    if (!id) return std::unexpected(id.error().context("left untouched"));
    previous[p] = *id;
  }
  return previous;
}

}  // namespace

Result<std::map<std::string, std::string>> Store::bind(std::span<const std::string> purposes, std::string_view id,
                                                       LiveSync sync) {
  const std::string what = fmt::format("binding version {}", id);
  if (auto r = require_writable(what); !r) return std::unexpected(r.error());
  auto version = verify_version(id);
  if (!version) return std::unexpected(version.error().context(what));
  fs::path live = dir_ / "live";
  auto previous = current_targets(live, purposes);
  if (!previous) return std::unexpected(previous.error().context(what));
  for (const auto& p : purposes) {
    if (auto r = switch_link(live, p, std::string(id)); !r) return std::unexpected(r.error().context(what + " to " + p));
    if (fault_point("store.bind.after_rename")) return fail(ErrorKind::Storage, "injected fault at store.bind.after_rename");
  }
  if (sync == LiveSync::Now) {
    if (auto r = fsutil::fsync_dir(live); !r) return std::unexpected(r.error().context(what));
    if (fault_point("store.bind.live_synced")) return fail(ErrorKind::Storage, "injected fault at store.bind.live_synced");
  }
  for (const auto& p : purposes)
    module_logger("store")->info("bound {} to version {} (thumbprint {}; was {})", p, id, version->meta.thumbprint,
                                 (*previous)[p].empty() ? "unbound" : (*previous)[p]);
  return previous;
}

Result<void> Store::unbind(std::span<const std::string> purposes) {
  if (auto r = require_writable("unbinding"); !r) return r;
  fs::path live = dir_ / "live";
  auto previous = current_targets(live, purposes);
  if (!previous) return std::unexpected(previous.error().context("unbinding"));
  for (const auto& [p, id] : *previous) {
    if (::unlink((live / p).c_str()) != 0 && errno != ENOENT)
      return std::unexpected(fsutil::errno_error("unbinding", live / p, errno));
    module_logger("store")->info("unbound {} (was {})", p, id.empty() ? "unbound" : id);
  }
  return fsutil::fsync_dir(live);
}

Result<std::optional<std::string>> bound_version_id(const Store& store, std::string_view purpose) {
  if (auto r = check_purpose_name(purpose); !r) return std::unexpected(r.error());
  fs::path link = store.live_path(purpose);
  auto kind = fsutil::entry_kind(link);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == fsutil::EntryKind::Missing) return std::nullopt;
  if (*kind != fsutil::EntryKind::Symlink) return fail(ErrorKind::Storage, link.string() + " is not a symlink certagent made");
  auto id = read_binding_target(link);
  if (!id) return std::unexpected(id.error());
  return std::move(*id);
}

Result<std::optional<Binding>> Store::binding(std::string_view purpose) const {
  auto id = bound_version_id(*this, purpose);
  if (!id) return std::unexpected(id.error());
  if (!*id) return std::nullopt;
  const bool complete = load_version(**id).has_value();
  return Binding{std::string(purpose), std::move(**id), complete};
}

}  // namespace certagent::agent
