#include "agent/store/notify_journal.hpp"

#include <sstream>

#include "agent/store/fsutil.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace {

fs::path notify_dir(const fs::path& state_dir) { return state_dir / "notify"; }

}  // namespace

Result<void> note_pending_notification(const Store& store, const PendingNotification& p) {
  if (auto r = check_purpose_name(p.purpose); !r) return r;
  if (!is_version_id(p.version_id)) return fail(ErrorKind::Invalid, "\"" + p.version_id + "\" is not a version id");
  const fs::path dir = notify_dir(store.dir());
  if (auto r = fsutil::make_private_dir(dir); !r) return std::unexpected(r.error().context("noting the hooks owed"));
  std::string text = p.version_id + "\n" + p.old_thumbprint + "\n";
  if (auto r = fsutil::write_file_atomic(dir / p.purpose, text, 0600); !r)
    return std::unexpected(r.error().context("noting the hooks owed to " + p.purpose));
  return ok();
}

Result<void> clear_pending_notification(const Store& store, const std::string& purpose) {
  if (auto r = check_purpose_name(purpose); !r) return r;
  const fs::path file = notify_dir(store.dir()) / purpose;
  std::error_code ec;
  fs::remove(file, ec);
  if (ec) return fail(ErrorKind::Storage, "removing " + file.string() + ": " + ec.message());
  return ok();  // not fsynced here: see the header
}

Result<std::vector<PendingNotification>> pending_notifications(const fs::path& state_dir) {
  std::vector<PendingNotification> out;
  const fs::path dir = notify_dir(state_dir);
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string purpose = entry.path().filename().string();
    if (purpose.starts_with(".tmp-")) continue;  // an interrupted write of a record
    auto text = fsutil::read_file(entry.path(), 4096);
    if (!text) return std::unexpected(text.error());
    std::istringstream in(*text);
    PendingNotification p{purpose, "", ""};
    std::getline(in, p.version_id);
    std::getline(in, p.old_thumbprint);
    if (!check_purpose_name(purpose) || !is_version_id(p.version_id))
      return fail(ErrorKind::Storage, entry.path().string() + " is not a record certagent wrote");
    out.push_back(std::move(p));
  }
  if (ec) return fail(ErrorKind::Storage, "reading " + dir.string() + ": " + ec.message());
  return out;
}

Result<std::vector<PendingNotification>> pending_notifications(const Store& store) {
  return pending_notifications(store.dir());
}

}  // namespace certagent::agent
