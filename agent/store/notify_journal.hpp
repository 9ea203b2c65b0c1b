#pragma once
// Consumers owed a notification: before a purpose's binding is switched,
// <state>/notify/<purpose> records the version it is switched to and the
// thumbprint it had; the record goes once that purpose's outputs are written
// and its hooks have run. A crash (SIGKILL, power loss) between the switch and
// the hooks leaves the record, and the next pass writes the outputs and runs
// the hooks for the version then bound (hooks are therefore run at least
// once per switch, and may run twice).
#include <filesystem>
#include <string>
#include <vector>

#include "agent/store/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct PendingNotification {
  std::string purpose;
  std::string version_id;      // the version the purpose was being switched to
  std::string old_thumbprint;  // what was bound before ("" when unbound)
};

[[nodiscard]] Result<void> note_pending_notification(const Store& store, const PendingNotification& pending);
// Removes the record without an fsync of notify/ of its own: a removal lost in a
// power failure only makes the next pass run those hooks again (at least once),
// the next record's write fsyncs notify/ anyway, and an engine pass fsyncs it
// once at its end.
[[nodiscard]] Result<void> clear_pending_notification(const Store& store, const std::string& purpose);
// Every record in <state>/notify; unreadable ones are an error naming the file.
[[nodiscard]] Result<std::vector<PendingNotification>> pending_notifications(const std::filesystem::path& state_dir);
[[nodiscard]] Result<std::vector<PendingNotification>> pending_notifications(const Store& store);

}  // namespace certagent::agent
