#include "agent/rebind.hpp"

#include <fmt/format.h>

#include "agent/logging.hpp"

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

}  // namespace

Result<std::vector<RebindOutcome>> rebind(Store& store, std::span<const std::string> purposes,
                                          std::string_view version_id,
                                          const std::map<std::string, PurposeConsumers>& consumers) {
  auto version = store.verify_version(version_id);
  if (!version) return std::unexpected(version.error().context("rebinding"));
  std::vector<RebindOutcome> outcomes;
  for (const auto& p : purposes) {
    const std::string one[] = {p};
    auto previous = store.bind(one, version_id);
    if (!previous) return std::unexpected(previous.error());
    RebindOutcome o{p, (*previous)[p], version->id, std::nullopt, false, std::nullopt};
    std::string old_thumbprint;
    if (!o.previous_version.empty())
      if (auto old = store.load_version(o.previous_version)) old_thumbprint = old->meta.thumbprint;
    const auto& c = consumers_of(consumers, p);
    o.failure = refresh(store, *version, old_thumbprint, p, c, HookAction::Bind);
    if (o.failure) {
      o.failure = std::move(*o.failure).context(fmt::format("after binding {} to version {}", p, version->id));
      if (!o.previous_version.empty() && o.previous_version != version->id) restore(store, o, *version, c);
    }
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace certagent::agent
