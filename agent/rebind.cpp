#include "agent/rebind.hpp"

#include <fmt/format.h>

#include "agent/fault.hpp"
#include "agent/logging.hpp"
#include "agent/notify_journal.hpp"

namespace certagent::agent {
namespace {

const PurposeConsumers kNone;

const PurposeConsumers& consumers_of(const std::map<std::string, PurposeConsumers>& all, const std::string& p) {
  auto it = all.find(p);
  return it == all.end() ? kNone : it->second;
}

// Outputs, then hooks, for the version now bound to `purpose`.
std::optional<Error> refresh(const Store& store, const StoredVersion& now_bound, const std::string& old_thumbprint,
                             const std::string& purpose, const PurposeConsumers& consumers, HookAction action) {
  for (const auto& out : consumers.outputs)
    if (auto r = write_output(now_bound, out); !r) return r.error();
  HookEvent event{purpose,          action, now_bound.id, old_thumbprint, now_bound.meta.thumbprint,
                  store.live_path(purpose), now_bound.meta.names};
  if (auto r = run_hooks(consumers.hooks, event); !r) return r.error();
  return std::nullopt;
}

// Binds `purpose` back to `previous` and tells its consumers.
void restore(Store& store, RebindOutcome& o, const StoredVersion& failed, const PurposeConsumers& consumers) {
  auto log = module_logger("store");
  const std::string one[] = {o.purpose};
  auto back = store.bind(one, o.previous_version);
  if (!back) {
    o.rollback_failure = back.error();
    log->error("rollback of {} to version {} failed: {}", o.purpose, o.previous_version, back.error().message);
    return;
  }
  o.rolled_back = true;
  auto previous = store.load_version(o.previous_version);
  if (!previous) {
    o.rollback_failure = previous.error();
    return;
  }
  o.rollback_failure = refresh(store, *previous, failed.meta.thumbprint, o.purpose, consumers, HookAction::Rollback);
  log->warn("{} rolled back to version {} (thumbprint {}); version {} stays stored for the next attempt", o.purpose,
            previous->id, previous->meta.thumbprint, failed.id);
}

std::string bound_thumbprint(const Store& store, const std::string& purpose) {
  auto b = store.binding(purpose);
  if (!b || !*b || !(*b)->complete) return "";
  auto v = store.load_version((*b)->version_id);
  return v ? v->meta.thumbprint : "";
}

}  // namespace

void replay_owed_notifications(Store& store, const std::map<std::string, PurposeConsumers>& consumers) {
  auto log = module_logger("store");
  auto pending = pending_notifications(store.dir());
  if (!pending) return log->error("cannot read the hooks owed: {}", pending.error().message);
  for (const auto& n : *pending) {
    auto b = store.binding(n.purpose);
    if (b && *b && (*b)->complete && (*b)->version_id == n.version_id) {
      auto now_bound = store.load_version(n.version_id);
      if (!now_bound) return log->error("{}: {}", n.purpose, now_bound.error().message);
      log->warn("{}: bound to version {} by a run that stopped before its consumers were told; telling them now",
                n.purpose, n.version_id);
      if (auto e = refresh(store, *now_bound, n.old_thumbprint, n.purpose, consumers_of(consumers, n.purpose),
                           HookAction::Bind)) {
        log->error("{}: {} (tried again on the next pass)", n.purpose, e->message);
        continue;
      }
    }
    if (auto cleared = clear_pending_notification(store, n.purpose); !cleared)
      log->warn("{}: {}", n.purpose, cleared.error().message);
  }
}

Result<std::vector<RebindOutcome>> rebind(Store& store, std::span<const std::string> purposes,
                                          std::string_view version_id,
                                          const std::map<std::string, PurposeConsumers>& consumers) {
  auto version = store.verify_version(version_id);
  if (!version) return std::unexpected(version.error().context("rebinding"));
  std::vector<RebindOutcome> outcomes;
  for (const auto& p : purposes) {
    const std::string one[] = {p};
    const std::string old_thumbprint = bound_thumbprint(store, p);
    // Noted before the switch: a crash after it still tells the consumers (replay_owed_notifications).
    if (auto noted = note_pending_notification(store, {p, version->id, old_thumbprint}); !noted)
      return std::unexpected(noted.error());
    auto previous = store.bind(one, version_id);
    if (!previous) return std::unexpected(previous.error());
    if (fault_point("rebind.after_bind")) return fail(ErrorKind::Storage, "injected fault at rebind.after_bind");
    RebindOutcome o{p, (*previous)[p], version->id, std::nullopt, false, std::nullopt};
    const auto& c = consumers_of(consumers, p);
    o.failure = refresh(store, *version, old_thumbprint, p, c, HookAction::Bind);
    if (o.failure) {
      o.failure = std::move(*o.failure).context(fmt::format("after binding {} to version {}", p, version->id));
      if (!o.previous_version.empty() && o.previous_version != version->id) restore(store, o, *version, c);
    }
    if (!o.rollback_failure)
      if (auto cleared = clear_pending_notification(store, p); !cleared)
        module_logger("store")->warn("{}: {}", p, cleared.error().message);
    outcomes.push_back(std::move(o));
    if (fault_point("rebind.after_purpose")) return fail(ErrorKind::Storage, "injected fault at rebind.after_purpose");
  }
  return outcomes;
}

}  // namespace certagent::agent
