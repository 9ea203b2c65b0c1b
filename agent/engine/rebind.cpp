#include "agent/engine/rebind.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "agent/store/fault.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/notify_journal.hpp"

namespace certagent::agent {
namespace {

const PurposeConsumers kNone;

const PurposeConsumers& consumers_of(const std::map<std::string, PurposeConsumers>& all, const std::string& p) {
  auto it = all.find(p);
  return it == all.end() ? kNone : it->second;
}

// One purpose of the step.
struct Step {
  std::string purpose;
  const PurposeConsumers* consumers = nullptr;
  StagedOutputs outputs;
  bool switched = false;
  bool told = false;     // its bind hooks ran and succeeded
  std::string previous;  // version id before the switch; "" when unbound
  std::string old_thumbprint;
};

// Every purpose's outputs, written to temporaries; nothing visible changes.
Result<std::vector<Step>> stage(const StoredVersion& version, std::span<const std::string> purposes,
                                const std::map<std::string, PurposeConsumers>& consumers) {
  std::vector<Step> steps;
  for (const auto& p : purposes) {
    const auto& c = consumers_of(consumers, p);
    auto staged = stage_outputs(version, c.outputs);
    if (!staged) return std::unexpected(staged.error().context(fmt::format("{}: nothing was switched", p)));
    steps.push_back(Step{p, &c, std::move(*staged), false, false, "", ""});
  }
  return steps;
}

bool owes_notification(const Step& s) {
  return !s.consumers->hooks.empty() || !s.consumers->outputs.empty() || !s.consumers->units.empty();
}

// One round of telling: every purpose of the step (bind), or those put back (rollback), in order.
struct Telling {
  const PurposeConsumers* consumers;
  HookEvent event;
};

// A hook is told once per round what it would be told alike: the same argv and timeout, action,
// version and old thumbprint. The purpose and its live/ paths aside, a shared certificate's
// purposes are told the same, so a hook named on all three runs once, not three times.
struct HookRun {
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout;
  HookAction action;
  std::string version_id;
  std::string old_thumbprint;
  auto operator<=>(const HookRun&) const = default;
};

HookRun run_of(const Hook& h, const HookEvent& e) { return {h.argv, h.timeout, e.action, e.version_id, e.old_thumbprint}; }

bool names_hook(const PurposeConsumers& c, const HookRun& run, const HookEvent& e) {
  return std::ranges::any_of(c.hooks, [&](const Hook& h) { return run_of(h, e) == run; });
}

// What one round has run already: each hook as it was told (HookRun), each unit with its verb.
struct RoundDone {
  std::set<HookRun> hooks;
  std::set<std::pair<std::string, UnitVerb>> units;
};

// Tells round[i]: each of its hooks not yet run this round, once for every later purpose of the
// round that names it alike (CERTAGENT_PURPOSES), then each of its systemd units not yet reloaded
// (or restarted) this round, once for every later purpose that names it with the same verb: every
// purpose's outputs are written before the round starts, so one reload serves them all.
Result<void> tell_in_round(std::span<const Telling> round, std::size_t i, RoundDone& done) {
  const Telling& t = round[i];
  for (const Hook& h : t.consumers->hooks) {
    const HookRun run = run_of(h, t.event);
    if (!done.hooks.insert(run).second) continue;  // run already, with an earlier purpose
    HookEvent event = t.event;
    for (std::size_t j = i; j < round.size(); ++j)
      if (names_hook(*round[j].consumers, run, round[j].event)) event.purposes.push_back(round[j].event.purpose);
    if (auto r = run_hooks({h}, event); !r) return r;
  }
  for (const UnitAction& u : t.consumers->units) {
    if (!done.units.insert({u.unit, u.verb}).second) continue;  // with an earlier purpose
    std::vector<std::string> purposes;
    for (std::size_t j = i; j < round.size(); ++j)
      if (std::ranges::any_of(round[j].consumers->units,
                              [&](const UnitAction& o) { return o.unit == u.unit && o.verb == u.verb; }))
        purposes.push_back(round[j].event.purpose);
    const auto what = fmt::format("{} of {}", t.event.action == HookAction::Bind ? "bind" : "rollback",
                                  fmt::join(purposes, ", "));
    if (auto r = run_unit_actions({u}, what); !r) return r;
  }
  return ok();
}

// Puts the switched purposes back where they were (unbound if they were).
void unswitch(Store& store, std::vector<Step>& steps) {
  for (auto& s : steps) {
    if (!s.switched) continue;
    const std::string one[] = {s.purpose};
    std::optional<Error> trouble;
    if (s.previous.empty()) {
      if (auto r = store.unbind(one); !r) trouble = r.error();
    } else if (auto r = store.bind(one, s.previous); !r) {
      trouble = r.error();
    }
    if (trouble) module_logger("store")->error("putting {} back failed: {}", s.purpose, trouble->message);
  }
}

Result<void> switch_all(Store& store, std::vector<Step>& steps, const StoredVersion& version, Store::LiveSync unowed) {
  for (auto& s : steps) {
    const std::string one[] = {s.purpose};
    auto previous = store.bind(one, version.id, owes_notification(s) ? Store::LiveSync::Now : unowed);
    if (!previous) {
      unswitch(store, steps);
      return std::unexpected(previous.error().context("nothing stays switched"));
    }
    s.switched = true;
    s.previous = (*previous)[s.purpose];
    if (!s.previous.empty())
      if (auto old = store.load_version(s.previous)) s.old_thumbprint = old->meta.thumbprint;
    // A crash here (the injected failure stops as a SIGKILL would: nothing undone) leaves
    // the owed-hook records for the next pass.
    if (fault_point("rebind.after_bind")) return fail(ErrorKind::Storage, "injected fault at rebind.after_bind");
  }
  return ok();
}

HookEvent event_for(const Store& store, const Step& s, const StoredVersion& now_bound, const std::string& old_thumb,
                    HookAction action) {
  return HookEvent{s.purpose, action, now_bound.id, old_thumb, now_bound.meta.thumbprint,
                   store.live_path(s.purpose), now_bound.meta.names, {}};
}

// Outputs of every purpose, then every purpose's hooks. Returns the index of
// the purpose that failed and why, or nothing when all succeeded.
std::optional<std::pair<std::size_t, Error>> commit_and_tell(const Store& store, std::vector<Step>& steps,
                                                             const StoredVersion& version) {
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (auto r = steps[i].outputs.commit(); !r) return std::pair{i, r.error()};
  std::vector<Telling> round;
  for (const auto& s : steps)
    round.push_back({s.consumers, event_for(store, s, version, s.old_thumbprint, HookAction::Bind)});
  RoundDone done;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto& s = steps[i];
    if (auto r = tell_in_round(round, i, done); !r) return std::pair{i, r.error()};
    s.told = true;
    if (fault_point("rebind.after_purpose"))
      return std::pair{i, Error(ErrorKind::Storage, "injected fault at rebind.after_purpose")};
  }
  return std::nullopt;
}

// Binds `s` back to its previous version and restores its outputs.
void put_back(Store& store, Step& s, RebindOutcome& o) {
  const std::string one[] = {s.purpose};
  if (auto back = store.bind(one, s.previous); !back) {
    o.rollback_failure = back.error();
    module_logger("store")->error("rollback of {} to version {} failed: {}", s.purpose, s.previous,
                                  back.error().message);
    return;
  }
  o.rolled_back = true;
  if (auto undone = s.outputs.undo(); !undone) o.rollback_failure = undone.error();
}

// Runs the hooks of the purposes bound to their previous versions again (`restored`, indexes
// into `steps`), one round.
void tell_restored(const Store& store, const std::vector<Step>& steps, std::span<const std::size_t> restored,
                   std::vector<RebindOutcome>& outcomes, const StoredVersion& failed) {
  std::vector<Telling> round;
  std::vector<std::size_t> told;  // the step of each entry of the round
  for (std::size_t i : restored) {
    const Step& s = steps[i];
    auto previous = store.load_version(s.previous);
    if (!previous) {
      if (!outcomes[i].rollback_failure) outcomes[i].rollback_failure = previous.error();
      continue;
    }
    round.push_back({s.consumers, event_for(store, s, *previous, failed.meta.thumbprint, HookAction::Rollback)});
    told.push_back(i);
  }
  RoundDone done;
  for (std::size_t k = 0; k < round.size(); ++k) {
    RebindOutcome& o = outcomes[told[k]];
    auto r = tell_in_round(round, k, done);
    if (!r && !o.rollback_failure) o.rollback_failure = r.error();
    module_logger("store")->warn("{} rolled back to version {} (thumbprint {}); version {} stays stored for the next "
                                 "attempt", round[k].event.purpose, round[k].event.version_id,
                                 round[k].event.new_thumbprint, failed.id);
  }
}

std::string bound_thumbprint(const Store& store, const std::string& purpose) {
  auto b = store.binding(purpose);
  if (!b || !*b || !(*b)->complete) return "";
  auto v = store.load_version((*b)->version_id);
  return v ? v->meta.thumbprint : "";
}

// A purpose without hooks or outputs is owed nothing: no record, no fsyncs.
// Noted before the switch: a crash after it still tells the consumers (replay_owed_notifications).
Result<void> note_owed(const Store& store, const std::vector<Step>& steps, const std::string& version_id) {
  for (const auto& s : steps) {
    if (!owes_notification(s)) continue;
    if (auto noted = note_pending_notification(store, {s.purpose, version_id, bound_thumbprint(store, s.purpose)});
        !noted)
      return noted;
  }
  return ok();
}

void clear_owed(const Store& store, const std::vector<Step>& steps, const std::vector<RebindOutcome>& outcomes) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (i < outcomes.size() && outcomes[i].rollback_failure) continue;  // the next pass tries again
    // A purpose that had nothing bound keeps the new version when its consumers fail: they are
    // still owed it, and the next pass tells them again (replay_owed_notifications) — once the
    // operator has fixed the hook, without a new order.
    if (i < outcomes.size() && outcomes[i].failure && !outcomes[i].rolled_back) continue;
    if (!owes_notification(steps[i])) continue;                        // none was noted
    if (auto cleared = clear_pending_notification(store, steps[i].purpose); !cleared)
      module_logger("store")->warn("{}: {}", steps[i].purpose, cleared.error().message);
  }
}

}  // namespace

void replay_owed_notifications(Store& store, const std::map<std::string, PurposeConsumers>& consumers) {
  auto log = module_logger("store");
  auto pending = pending_notifications(store);
  if (!pending) return log->error("cannot read the hooks owed: {}", pending.error().message);
  for (const auto& n : *pending) {
    auto b = store.binding(n.purpose);
    if (b && *b && (*b)->complete && (*b)->version_id == n.version_id) {
      auto now_bound = store.load_version(n.version_id);
      if (!now_bound) return log->error("{}: {}", n.purpose, now_bound.error().message);
      log->warn("{}: bound to version {} by a run that stopped before its consumers were told; telling them now",
                n.purpose, n.version_id);
      const auto& c = consumers_of(consumers, n.purpose);
      Result<void> told = write_outputs(*now_bound, c.outputs);
      if (told) {
        const Telling one[] = {{&c, HookEvent{n.purpose, HookAction::Bind, now_bound->id, n.old_thumbprint,
                                              now_bound->meta.thumbprint, store.live_path(n.purpose),
                                              now_bound->meta.names, {}}}};
        RoundDone done;
        told = tell_in_round(one, 0, done);
      }
      if (!told) {
        log->error("{}: {} (tried again on the next pass)", n.purpose, told.error().message);
        continue;
      }
    }
    if (auto cleared = clear_pending_notification(store, n.purpose); !cleared)
      log->warn("{}: {}", n.purpose, cleared.error().message);
  }
}

Result<std::vector<RebindOutcome>> rebind(Store& store, std::span<const std::string> purposes,
                                          std::string_view version_id,
                                          const std::map<std::string, PurposeConsumers>& consumers,
                                          Store::LiveSync unowed) {
  auto version = store.verify_version(version_id);
  if (!version) return std::unexpected(version.error().context("rebinding"));
  auto steps = stage(*version, purposes, consumers);
  if (!steps) return std::unexpected(steps.error().context(fmt::format("binding version {}", version->id)));
  if (auto noted = note_owed(store, *steps, version->id); !noted) return std::unexpected(noted.error());
  // A failed switch leaves the records: the next pass drops those whose switch never happened.
  if (auto switched = switch_all(store, *steps, *version, unowed); !switched) return std::unexpected(switched.error());
  auto failed = commit_and_tell(store, *steps, *version);
  std::vector<RebindOutcome> outcomes;
  for (const auto& s : *steps) outcomes.push_back(RebindOutcome{s.purpose, s.previous, version->id, {}, false, {}});
  if (!failed) {
    clear_owed(store, *steps, outcomes);
    return outcomes;
  }
  const auto& [index, error] = *failed;
  const std::string culprit = (*steps)[index].purpose;
  std::vector<std::size_t> restored;
  for (std::size_t i = 0; i < steps->size(); ++i) {
    Step& s = (*steps)[i];
    RebindOutcome& o = outcomes[i];
    o.failure = i == index ? error.context(fmt::format("after binding {} to version {}", s.purpose, version->id))
                           : Error(error.kind, fmt::format("bound with {} in one step, whose consumers failed: {}",
                                                           culprit, error.message));
    // A purpose that was unbound has nothing to go back to: it keeps the new
    // version, and succeeded when its own consumers were told.
    if (s.previous.empty() || s.previous == version->id) {
      if (s.told) o.failure.reset();
      continue;
    }
    put_back(store, s, o);
    if (o.rolled_back) restored.push_back(i);
  }
  // Every binding and file is back before any consumer is told.
  tell_restored(store, *steps, restored, outcomes, *version);
  clear_owed(store, *steps, outcomes);
  return outcomes;
}

}  // namespace certagent::agent
