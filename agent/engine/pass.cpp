#include "agent/engine/pass.hpp"

#include <malloc.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <random>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "agent/engine/ari.hpp"
#include "agent/engine/records.hpp"
#include "agent/engine/consumers.hpp"
#include "agent/engine/work_outputs.hpp"
#include "agent/engine/renewal_decision.hpp"
#include "agent/engine/solver.hpp"
#include "agent/engine/work.hpp"
#include "agent/engine/pool/pool.hpp"
#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/notify_journal.hpp"
#include "agent/engine/installed_state.hpp"
#include "agent/store/logging.hpp"
#include "agent/engine/policy_file.hpp"
#include "agent/engine/progress.hpp"
#include "agent/engine/rebind.hpp"
#include "agent/engine/system_waiter.hpp"
#include "policy/plan.hpp"
#include "protocol/acme/poll_schedule.hpp"
#include "policy/required.hpp"

namespace certagent::agent {
namespace {

using policy::ActionKind;

struct Job {
  policy::Action action;
  BackoffState backoff;
  bool attempted = false;
  std::optional<Error> error;
  std::chrono::milliseconds duration{0};
  std::chrono::steady_clock::time_point ended{};  // when the attempt finished (set with `attempted`)
  std::string from_version;  // the stored version with the action's thumbprint (rebind, renew), "" none
};

// The pass's jobs: one per certificate with work to do, and of those kept only a back-off the
// pass changed (an Action copied per kept certificate was most of a pass's memory at 10,000: issue 26).
struct Jobs {
  std::map<std::string, Job> work;
  // A kept certificate's back-off is its schedule record's (asked of `schedules`: a copy per
  // certificate here was 2 MiB at 10,000), except when the pass changed it (a policy change
  // resets it): then it is here.
  std::unordered_map<std::string, BackoffState> kept;
  ScheduleReads* schedules = nullptr;
  [[nodiscard]] const Job* find(const std::string& id) const {
    auto it = work.find(id);
    return it == work.end() ? nullptr : &it->second;
  }
  [[nodiscard]] BackoffState backoff(const std::string& id) const {
    if (const Job* j = find(id)) return j->backoff;
    if (auto it = kept.find(id); it != kept.end()) return it->second;
    if (schedules == nullptr) return {};
    return schedules->backoff(id).value_or(BackoffState{});  // unreadable: as initial_backoff, none
  }
};

bool needs_order(ActionKind k) { return k == ActionKind::Issue || k == ActionKind::Reissue || k == ActionKind::Renew; }

std::shared_ptr<spdlog::logger> log() { return module_logger("engine"); }

// What the pass works with, besides the jobs.
struct PassState {
  const PassRequest* request = nullptr;
  Rng rng{std::random_device{}()};
  SharedStore* store = nullptr;
  const Selections* selections = nullptr;  // the renewal decisions the pass's plan was made with
  ScheduleReads* schedules = nullptr;      // the pass's reads of the schedule records
};

// The renewal decision behind the attempt, for its schedule record: the one the pass planned
// with for the certificate the action started from (its thumbprint), so that the record keeps
// the random draw and the basis of its renew_at — as the end-of-pass write would for a
// certificate still not renewed — instead of dropping them until the pass ends.
std::optional<RenewalChoice> choice_behind(const PassState& ps, const policy::Action& action) {
  if (ps.selections == nullptr || !action.thumbprint) return std::nullopt;
  auto it = ps.selections->find(*action.thumbprint);
  if (it == ps.selections->end()) return std::nullopt;
  return it->second;
}

// The wall-clock time an attempt ended: back-off counts from the failure, not from the start of
// a pass that may have spent minutes on other certificates first. Never later than the real
// time (whole seconds, rounded down), so an expired back-off is not pushed into the future.
TimePoint ended_at(const PassRequest& request, const Job& job) {
  if (job.ended == std::chrono::steady_clock::time_point{}) return request.now;
  return request.now + std::chrono::floor<std::chrono::seconds>(std::max(job.ended - request.started,
                                                                        std::chrono::steady_clock::duration{0}));
}

void record(PassState& ps, Job& job) {
  const auto now = ended_at(*ps.request, job);
  if (job.error && job.error->kind == ErrorKind::Cancelled) {
    log()->info("{}: {} interrupted: the agent is stopping; it is taken up at the next start",
                job.action.certificate.id, to_string(job.action.kind));
    return;  // not a failure of the CA or the certificate: no back-off
  }
  if (job.error && protocol::is_pending_at_ca(*job.error)) {
    const auto next = now + pending_check_delay(*job.error);
    job.backoff = record_pending(job.backoff, *job.error, now, next);
    log()->warn("{}: {}; the order stays journaled: pending at the CA, next check at {}", job.action.certificate.id,
                job.error->message, format_rfc3339(next));
  } else if (job.error) {
    job.backoff = record_failure(job.backoff, *job.error, now, ps.rng, engine_backoff_policy());
    log()->error("{}: {} failed: {}; {}", job.action.certificate.id, to_string(job.action.kind), job.error->message,
                 describe(job.backoff, now));
  } else {
    job.backoff = record_success(job.backoff, now);
  }
  // the decision stays the pass's (its `now`); the back-off, the attempt's
  const auto decided = ps.request->now;
  if (auto saved = save_schedule(*ps.schedules, ps.store->lock(), job.action, job.backoff, decided,
                                 choice_behind(ps, job.action));
      !saved)
    log()->error("{}: cannot save the back-off state: {}", job.action.certificate.id, saved.error().message);
}

BackoffState initial_backoff(ScheduleReads& schedules, const std::string& id, WakeReason reason) {
  auto state = schedules.backoff(id);
  if (!state) {
    log()->warn("{}: {}; treating it as not backed off", id, state.error().message);
    return {};
  }
  if (reason == WakeReason::Reload || reason == WakeReason::PolicyChanged) return reset_after_policy_change(*state);
  return *state;
}

// May the pass work on this certificate now? A back-off says no, unless the operator asked
// for an attempt now (run --now), which lifts the wait.
bool may_attempt(Job& job, const PassRequest& request) {
  const auto& id = job.action.certificate.id;
  if (attempt_allowed(job.backoff, request.now)) return true;
  if (!request.retry_now) {
    log()->warn("{}: skipped, backing off: {}", id, describe(job.backoff, request.now));
    return false;
  }
  log()->warn("{}: retrying at once (run --now) instead of backing off: {}", id, describe(job.backoff, request.now));
  job.backoff = lift_wait(job.backoff);
  return true;
}

void rebind_stored(EngineContext& ctx, Job& job) {
  const auto& a = job.action;
  if (job.from_version.empty()) {
    job.error = Error{ErrorKind::Storage, "the certificate " + a.thumbprint.value_or("") + " is not in the store"};
    return;
  }
  auto bound = bind_version(ctx, a.rebind, job.from_version, Store::LiveSync::Caller);  // live/ synced by work()
  if (!bound) job.error = bound.error();
  else log()->info("{}: bound stored version {} to {}", a.certificate.id, job.from_version, fmt::join(a.rebind, ", "));
}

// The ARI certID of the certificate a renewal replaces (RFC 9773 §5), "" when there is none.
std::string replaced_cert_id(EngineContext& ctx, const Job& job) {
  const auto& a = job.action;
  if (a.kind != ActionKind::Renew || !a.thumbprint || job.from_version.empty()) return "";
  auto found = ctx.store->lock()->load_version(job.from_version);
  if (!found) return "";
  auto id = ari_cert_id_of(*found);
  if (!id) log()->debug("{}: no ARI certID for {}: {}", a.certificate.id, *a.thumbprint, id.error().message);
  return id.value_or("");
}

void order_and_bind(EngineContext& ctx, protocol::AcmeSession& session, Job& job) {
  const auto& c = job.action.certificate;
  if (c.profile)
    if (auto offered = check_profile(session.directory(), *c.profile, ctx.ca->directory_url); !offered) {
      job.error = offered.error();  // before any order: a policy error, at the profile's line and column
      return;
    }
  auto version = obtain_version(ctx, session, OrderRequest{c.id, plain_names(c.names), c.key,
                                                           replaced_cert_id(ctx, job),
                                                           c.profile ? c.profile->name : ""});
  if (!version) {
    job.error = version.error();
    return;
  }
  auto bound = bind_version(ctx, c.purposes, version->id, Store::LiveSync::Caller);  // live/ synced by work()
  if (!bound) job.error = bound.error();
  else log()->info("{}: version {} (thumbprint {}) bound to {}", c.id, version->id, version->meta.thumbprint,
                   fmt::join(c.purposes, ", "));
}

// The number of workers run_bounded starts for `jobs` jobs.
std::size_t worker_count(std::size_t jobs, std::size_t limit) { return std::max<std::size_t>(1, std::min(limit, jobs)); }

// Runs `work(job, worker)` on each job, on worker_count(...) threads (this one
// is worker 0); `worker` says which thread, so each can use its own resources.
// A progress line (`what`: done, failed, in progress) every 10 s while they run (progress.hpp).
template <typename Work>
void run_bounded(std::string_view what, std::vector<Job*>& jobs, std::size_t limit, const PassRequest& req, Work work) {
  std::vector<std::string> names;
  for (const auto* j : jobs) names.push_back(j->action.certificate.id);
  BatchProgress progress(std::move(names));
  std::optional<ProgressReporter> reporter;
  if (!jobs.empty()) reporter.emplace(std::string(what), progress);
  std::atomic<std::size_t> next{0};
  auto worker = [&](std::size_t w) {
    for (std::size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      if (req.cancelled()) return;
      auto start = std::chrono::steady_clock::now();
      jobs[i]->attempted = true;
      progress.started(i);
      work(*jobs[i], w);
      progress.ended(i, jobs[i]->error.has_value());
      jobs[i]->ended = std::chrono::steady_clock::now();
      jobs[i]->duration = std::chrono::duration_cast<std::chrono::milliseconds>(jobs[i]->ended - start);
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < worker_count(jobs.size(), limit); ++t) threads.emplace_back(worker, t);
  worker(0);
  for (auto& t : threads) t.join();
}

}  // namespace

namespace {

// serverInternal while orders ran concurrently (step-ca 0.19 races on an account's order index:
// newOrder and order reads answer 500 now and then): those jobs once more, one at a time,
// before anything is concluded from it (retry_with_account).
void retry_serially(EngineContext& ctx, protocol::AcmeSession& session, std::vector<Job*>& jobs, std::size_t workers,
                    const PassRequest& req) {
  std::vector<Job*> again;
  for (auto* j : jobs)
    if (j->error && j->error->kind == ErrorKind::ServerInternal) again.push_back(j);
  if (again.empty() || workers < 2 || req.cancelled()) return;
  log()->warn("{} certificate(s) failed with serverInternal while {} were ordered at once; once more, one at a time",
              again.size(), workers);
  for (auto* j : again) j->error.reset();
  run_bounded("ordering again, one at a time", again, 1, req,
              [&](Job& j, std::size_t) { order_and_bind(ctx, session, j); });
}

// A CA that lost the account (a new or reset CA): register the key again; an account that can
// no longer order: register a new one with a new key (the old one kept). Either way a new
// session (one more directory request), and those jobs again.
void retry_with_account(EngineContext& ctx, const policy::Policy& policy, std::vector<Job*>& jobs, std::size_t limit,
                        const PassRequest& req) {
  std::vector<Job*> lost;
  bool unable = false;
  for (auto* j : jobs)
    if (j->error && (is_lost_account(*j->error) || is_account_unable_to_order(*j->error))) {
      unable = unable || is_account_unable_to_order(*j->error);
      lost.push_back(j);
    }
  if (lost.empty() || req.cancelled()) return;
  const std::size_t workers = worker_count(lost.size(), limit);
  const auto when = ended_at(req, *lost.front()).time_since_epoch().count();
  auto again = [&]() -> Result<OpenCa> {
    const StoreWriter store = ctx.store->lock();  // the workers have joined; released before they run again
    auto forgotten = unable ? replace_account(*store, policy.ca, when, lost.front()->error->message)
                            : forget_account_url(*store, policy.ca);
    if (!forgotten) return std::unexpected(forgotten.error());
    return open_ca(*store, policy.ca, workers, *ctx.clock, *ctx.waiter, req.cancel);
  }();
  if (!again) {
    for (auto* j : lost) j->error = again.error();
    return;
  }
  ctx.ca = &again->access;
  for (auto* j : lost) j->error.reset();
  run_bounded("ordering with the account registered again", lost, workers, req,
              [&](Job& j, std::size_t w) { order_and_bind(ctx, *again->connections.at(w).session, j); });
}

// The CA (one directory request, the account, one connection per worker) and
// the solver, then every order job, `limit` at once, each worker through its
// own connection. A failure to get the CA or the solver is every job's
// failure (each backs off on its own). The connections close with the pass.
void run_orders(EngineContext& ctx, const policy::Policy& policy, std::vector<Job*>& jobs, std::size_t limit,
                const PassRequest& req) {
  if (jobs.empty()) return;
  const std::size_t workers = worker_count(jobs.size(), limit);
  log()->info("ordering {} certificate(s), {} at once (ca.concurrency {})", jobs.size(), workers, limit);
  auto ca = open_ca(*ctx.store->lock(), policy.ca, workers, *ctx.clock, *ctx.waiter, req.cancel);  // no worker yet
  auto solver = ca ? start_solver(policy.challenges, req.cancel, &ctx.store->unlocked()) : Result<std::unique_ptr<protocol::ChallengeSolver>>{nullptr};
  if (!ca || !solver) {
    Error e = !ca ? ca.error() : solver.error();
    for (auto* j : jobs) {
      j->attempted = true;
      j->ended = std::chrono::steady_clock::now();
      j->error = e;
    }
    return;
  }
  ctx.ca = &ca->access;
  ctx.solver = solver->get();
  run_bounded("ordering", jobs, workers, req, [&](Job& j, std::size_t w) { order_and_bind(ctx, *ca->connections.at(w).session, j); });
  retry_serially(ctx, *ca->connections.front().session, jobs, workers, req);
  retry_with_account(ctx, policy, jobs, limit, req);
  ctx.ca = nullptr;
}

// The orders of a pool member (agent/engine/pool/pool.hpp): a pool-wide certificate the pool
// already holds is installed, one another member orders is waited for (after this member's own
// orders), one this member leads is ordered with the rest and published. Without a pool: run_orders.
void run_pool_orders(EngineContext& ctx, const policy::Policy& policy, std::vector<Job*>& jobs, std::size_t limit,
                     const PassRequest& req) {
  auto pool = PoolPass::for_policy(policy, *ctx.waiter, req.cancel);
  if (!pool) return run_orders(ctx, policy, jobs, limit, req);
  std::vector<Job*> own, led, waiting;
  std::mutex led_m;  // followers that take over run on several workers
  auto step = [&](Job& j, const Result<PoolStep>& s) {
    if (!s) {
      j.error = s.error();
    } else if (*s == PoolStep::Lead || *s == PoolStep::Alone) {
      std::lock_guard lock(led_m);
      if (*s == PoolStep::Lead) led.push_back(&j);
      return true;  // ordered here
    } else if (*s == PoolStep::Follow) {
      waiting.push_back(&j);
    }
    return false;
  };
  for (auto* j : jobs) {
    if (!pool->pool_wide(j->action.certificate)) {
      own.push_back(j);
      continue;
    }
    j->attempted = true;
    j->ended = std::chrono::steady_clock::now();
    if (step(*j, pool->before_order(ctx, j->action, j->from_version))) own.push_back(j);
  }
  run_orders(ctx, policy, own, limit, req);
  run_bounded("waiting for the pool's leaders", waiting, limit, req, [&](Job& j, std::size_t) {
    if (step(j, pool->follow(ctx, j.action, j.from_version))) {
      std::vector<Job*> one{&j};
      run_orders(ctx, policy, one, 1, req);
    }
  });
  for (auto* j : led)
    if (auto published = pool->finish_lead(ctx, j->action, j->attempted && !j->error); !published && !j->error)
      j->error = published.error();
  std::vector<std::string> pool_wide;
  for (const auto& c : policy::required_certificates(policy))
    if (pool->pool_wide(c)) pool_wide.push_back(c.id);
  pool->record_view(ctx, pool_wide);
}

// What the pass reads of the store once it has read the renewal information: the bindings (the
// plan's: purpose -> the bound version's thumbprint) and each version's id, thumbprint, certificate
// id and expiry. The inventory (StoredVersions of 384 bytes each before their strings, its bindings
// a second time) is let go before the renewal decisions and the plan are made: at 10,000
// certificates it was the largest part of a pass's peak (issue 26).
struct VersionRef {
  std::string thumbprint;
  std::string id;
  std::string certificate_id;  // the policy's id for it (meta.json's), for the renewal decisions
  std::chrono::sys_seconds not_after{};
};

struct StoreView {
  policy::Bindings bindings;         // policy::Installed's: an incomplete binding names its version id
  std::vector<VersionRef> versions;  // the complete versions, sorted by thumbprint, then id

  // The versions' ids, thumbprints and certificate ids, taken out of `inv` (its versions are freed).
  static std::vector<VersionRef> versions_taken_from(Inventory& inv) {
    std::vector<VersionRef> out;
    out.reserve(inv.versions.size());
    for (auto& v : inv.versions)
      out.push_back({std::move(v.meta.thumbprint), std::move(v.id), std::move(v.meta.certificate_id), v.meta.not_after});
    std::vector<StoredVersion>().swap(inv.versions);
    std::sort(out.begin(), out.end(), [](const VersionRef& a, const VersionRef& b) {
      return std::tie(a.thumbprint, a.id) < std::tie(b.thumbprint, b.id);
    });
    return out;
  }
  // The first version (by id) with this thumbprint, as find_by_thumbprint; null: none.
  [[nodiscard]] const VersionRef* find(std::string_view thumbprint) const {
    auto v = std::lower_bound(versions.begin(), versions.end(), thumbprint,
                              [](const VersionRef& x, std::string_view t) { return x.thumbprint < t; });
    return v == versions.end() || v->thumbprint != thumbprint ? nullptr : &*v;
  }
};

// The version bound to a purpose, by binary searches (a scan of the bindings and the versions per
// purpose made the pass's summary quadratic, issue 26). An incomplete binding names a version id,
// never a thumbprint: no status.
PurposeStatus purpose_status(const StoreView& inv, const std::string& purpose) {
  PurposeStatus out{purpose, "", std::nullopt};
  auto b = inv.bindings.find(purpose);
  if (b == inv.bindings.end()) return out;
  const VersionRef* v = inv.find(b->second);
  if (v == nullptr) return out;
  out.thumbprint = v->thumbprint;
  out.not_after = v->not_after;
  return out;
}

// A certificate still not right after the pass, with no back-off to say when (the pass was
// cancelled, or another certificate's work changed its plan): look again in a minute.
constexpr Seconds kRetryUnfinished{60};

CertificateStatus certificate_status(const StoreView& inv, const policy::Action& after, const BackoffState& backoff,
                                     TimePoint now) {
  CertificateStatus s;
  s.id = after.certificate.id;
  for (const auto& p : after.certificate.purposes) s.purposes.push_back(purpose_status(inv, p));
  if (after.kind == ActionKind::Keep && after.renewal_due) s.next_renewal = to_seconds(*after.renewal_due);
  if (backoff.next_attempt) s.next_renewal = std::max(s.next_renewal.value_or(TimePoint{}), *backoff.next_attempt);
  if (after.kind != ActionKind::Keep && !s.next_renewal) s.next_renewal = now + kRetryUnfinished;
  s.consecutive_failures = backoff.consecutive_failures;
  s.last_success = backoff.last_success;
  if (backoff.consecutive_failures > 0) s.last_error = backoff.last_error_message;
  s.permanent_error = backoff.permanent;
  s.current = after.kind == ActionKind::Keep;
  return s;
}

std::string status_line(const PassSummary& s) {
  std::size_t current = 0;
  for (const auto& c : s.certificates) current += c.consecutive_failures == 0 && !c.purposes.empty() ? 1 : 0;
  std::string line = fmt::format("{} certificate(s); {} issued this pass; {}", s.certificates.size(),
                                 std::count_if(s.attempts.begin(), s.attempts.end(),
                                               [](const IssuanceAttempt& a) { return a.succeeded; }),
                                 s.error_kind  ? fmt::format("the pass FAILED ({})", to_string(*s.error_kind))
                                 : s.failed    ? std::string("some work FAILED")
                                 : s.incomplete ? std::string("INCOMPLETE")
                                                : std::string("all current"));
  if (s.next_wake) line += "; next at " + format_rfc3339(*s.next_wake);
  if (s.policy_error) line += "; policy invalid, previous policy in force";
  return line;
}

}  // namespace

namespace {

// The plan's actions as the pass keeps them, in the plan's order: a kept certificate's as a small
// record (its id, purposes, reason, renewal time and the stored version it keeps: 104 bytes, where
// a policy::Action is 384 before its strings; at 10,000 certificates, nearly all kept, whole
// actions were the largest part of what a pass held: issue 26), any other whole.
class PlannedActions {
 public:
  void reserve(std::size_t n) {
    order_.reserve(n);
    kept_.reserve(n);
  }
  // `store`: the view the plan was made from, whose versions the kept records name.
  void add(policy::Action&& a, const StoreView& store) {
    const VersionRef* v =
        a.kind == ActionKind::Keep && a.thumbprint && a.renewal_due ? store.find(*a.thumbprint) : nullptr;
    if (v != nullptr) {
      order_.push_back({true, static_cast<std::uint32_t>(kept_.size())});
      kept_.push_back({std::move(a.certificate.id), std::move(a.certificate.purposes), std::move(a.reason),
                       static_cast<std::uint32_t>(v - store.versions.data()), *a.renewal_due});
    } else {
      order_.push_back({false, static_cast<std::uint32_t>(others_.size())});
      others_.push_back(std::move(a));
    }
  }
  // fn(const policy::Action&) for each action in the plan's order. A kept certificate's is made
  // again from its record, with only what the pass reads of it: its id and purposes, the kind,
  // reason, thumbprint and renewal time (no names, no key type or profile).
  // `store`: the one given to add().
  template <typename Fn>
  void for_each(const StoreView& store, Fn fn) const {
    policy::Action k;
    k.kind = ActionKind::Keep;
    for (const auto& e : order_) {
      if (!e.kept) {
        fn(static_cast<const policy::Action&>(others_[e.index]));
        continue;
      }
      const Kept& r = kept_[e.index];
      k.certificate.id = r.id;
      k.certificate.purposes = r.purposes;
      k.reason = r.reason;
      k.thumbprint = store.versions[r.version].thumbprint;
      k.renewal_due = r.renewal_due;
      fn(static_cast<const policy::Action&>(k));
    }
  }
  // The actions other than keep: the pass's work.
  [[nodiscard]] std::vector<policy::Action>& others() { return others_; }
  [[nodiscard]] std::size_t size() const { return order_.size(); }

 private:
  struct Kept {
    std::string id;
    std::vector<std::string> purposes;
    std::string reason;
    std::uint32_t version = 0;  // its thumbprint's, in StoreView::versions
    TimePoint renewal_due;
  };
  struct Entry {
    bool kept = false;
    std::uint32_t index = 0;  // in kept_ or others_
  };
  std::vector<Entry> order_;
  std::vector<Kept> kept_;
  std::vector<policy::Action> others_;
};

struct Planned {
  StoreView store;  // what the pass reads of the inventory the plan was made from
  PlannedActions actions;
  Selections selections;  // the renewal decisions (random point, basis), by thumbprint
  std::optional<TimePoint> ari_recheck;  // the earliest renewal-information re-check ahead
};

// The actions of the plan for what the store holds (`inv`, read just before).
Result<Planned> plan_now(const Store& store, const policy::Policy& policy, TimePoint now, Rng& rng,
                         ScheduleReads& schedules, Result<Inventory> inv) {
  if (!inv) return std::unexpected(inv.error().context("reading the state directory"));
  for (const auto& p : inv->problems) log()->warn("skipped in the state directory: {}: {}", p.path.string(), p.what);
  auto installed = to_installed_moving_names(*inv);  // the pass reads no names of the inventory after this
  auto ari = ari_windows(store, *inv, policy.ca.directory_url, now);
  // The inventory is let go before the renewal decisions and the plan: the pass keeps the installed
  // view's bindings and, of each version, its id, thumbprint, certificate id and expiry (issue 26).
  auto versions = StoreView::versions_taken_from(*inv);
  *inv = Inventory{};
  std::vector<VersionOwner> owners;
  owners.reserve(versions.size());
  for (const auto& v : versions) owners.push_back({v.thumbprint, v.certificate_id});  // sorted by thumbprint, then id
  auto selections =
      precompute_renewal(installed, std::move(owners), policy.renewal, store, now, rng, ari.windows, &schedules);
  ari.windows.clear();  // read by precompute_renewal only
  // Each action kept as it is decided: a kept certificate's as a small record, its names and the
  // rest of its required certificate freed at once, not once all 10,000 are planned (issue 26).
  PlannedActions actions;
  actions.reserve(policy::count_required_certificates(policy, installed.bindings));
  StoreView view{{}, std::move(versions)};
  policy::plan_each(policy, installed, now, [&](policy::Action&& a) { actions.add(std::move(a), view); });
  view.bindings = std::move(installed.bindings);
  return Planned{std::move(view), std::move(actions), std::move(selections), ari.earliest_recheck};
}

void summarize(PassSummary& s, const StoreView& inv, const PlannedActions& after, const Jobs& jobs,
               TimePoint now) {
  s.certificates.reserve(after.size());
  after.for_each(inv, [&](const policy::Action& a) {
    s.certificates.push_back(certificate_status(inv, a, jobs.backoff(a.certificate.id), now));
    if (a.kind != ActionKind::Keep) s.incomplete = true;
    const auto& next = s.certificates.back().next_renewal;
    if (next && (!s.next_wake || *next < *s.next_wake)) s.next_wake = *next;
    const Job* job = jobs.find(a.certificate.id);
    if (job == nullptr || !job->attempted) return;
    if (job->error && job->error->kind != ErrorKind::Cancelled && !protocol::is_pending_at_ca(*job->error))
      s.failed = true;  // an order pending at the CA is not a failure: the pass is incomplete
    if (needs_order(job->action.kind))
      s.attempts.push_back({a.certificate.id, std::string(to_string(job->action.kind)), !job->error, job->duration});
  });
}

// Rebinds (serially, they only touch the store), then the orders; every
// attempt's outcome goes into its back-off state and its schedule record, with
// the renewal decision (`selections`) the plan was made with.
// Returns whether anything in the state directory changed (the schedules aside).
Result<bool> work(const PassRequest& request, const policy::Policy& policy, SharedStore& shared, std::size_t concurrency,
                  const Selections& selections, ScheduleReads& schedules, std::vector<Job*>& rebinds,
                  std::vector<Job*>& orders) {
  SystemClock clock;
  SleepingWaiter waiter(request.cancel);
  const Store& store = shared.unlocked();  // the notifications' journal, and the pass's own syncs: one thread
  EngineContext ctx{&shared, nullptr, nullptr, &clock, &waiter, consumers_from_policy(policy)};
  auto owed = pending_notifications(store);  // none owed, nothing attempted, no output rewritten: nothing to sync
  bool changed = !owed || !owed->empty();
  replay_owed_notifications(*shared.lock(), ctx.consumers);
  run_bounded("binding stored certificates", rebinds, 1, request, [&](Job& j, std::size_t) { rebind_stored(ctx, j); });
  run_pool_orders(ctx, policy, orders, concurrency, request);
  changed = write_missing_outputs(ctx) > 0 || changed;
  for (auto* group : {&rebinds, &orders})
    changed = changed || std::any_of(group->begin(), group->end(), [](const Job* j) { return j->attempted; });
  PassState ps{&request, Rng{std::random_device{}()}, &shared, &selections, &schedules};
  // schedule/: one syncfs for all the records, one fsync of the directory (fsutil.hpp says why that is safe)
  fsutil::DirSyncBatch batch(fsutil::DirSyncBatch::Files::OneSync);
  // The journals and owed-hooks records removed in this pass, made durable once (order_journal.hpp, notify_journal.hpp),
  // and the switches of purposes without consumers (engine/work.cpp bind_version, Store::LiveSync::Caller).
  // A pass that did none of these has nothing there to make durable (issue 26: two fsyncs a pass).
  if (changed)
    for (const auto& dir : store.pass_sync_dirs()) batch.defer(dir);
  for (auto* group : {&rebinds, &orders})
    for (auto* j : *group)
      if (j->attempted) record(ps, *j);
  if (auto synced = batch.commit(); !synced) log()->error("cannot save the back-off states: {}", synced.error().message);
  // Every attempt is recorded; the end-of-pass plan and schedules are not written yet.
  if (fault_point("engine.pass.after_attempts"))
    return fail(ErrorKind::Storage, "injected fault at engine.pass.after_attempts");
  return changed;
}

// The plan after the pass, with each certificate's back-off, for the next
// pass, a restart and `certagent status`.
void save_schedules(SharedStore& shared, ScheduleReads& schedules, const Planned& after, const Jobs& jobs,
                    TimePoint now) {
  const StoreWriter store = shared.lock();
  fsutil::DirSyncBatch batch(fsutil::DirSyncBatch::Files::OneSync);  // one syncfs and one fsync of schedule/ for all
  after.actions.for_each(after.store, [&](const policy::Action& a) {
    const BackoffState backoff = jobs.backoff(a.certificate.id);
    std::optional<RenewalChoice> choice;
    if (auto sel = after.selections.find(a.thumbprint.value_or("")); sel != after.selections.end()) choice = sel->second;
    if (auto saved = save_schedule(schedules, store, a, backoff, now, choice); !saved)
      log()->error("{}: cannot save its schedule: {}", a.certificate.id, saved.error().message);
  });
  if (auto synced = batch.commit(); !synced) log()->error("cannot save the schedules: {}", synced.error().message);
}

}  // namespace

PassSummary Engine::pass(const PassRequest& request) {
  PassSummary summary;
  if (auto locked = store_->take_writer_lock(kLockWait, request.cancel); !locked) {
    log()->error("the pass cannot write the state directory: {}", locked.error().message);
    summary.failed = true;
    summary.error_kind = locked.error().kind;
    summary.status_line = "not run: " + locked.error().message;
    return summary;
  }
  try {
    auto loaded = load_policy(options_.policy_file);
    if (loaded) policy_ = std::move(*loaded);
    else summary.policy_error = loaded.error().message;
    if (!policy_) {
      summary.status_line = "policy invalid: " + *summary.policy_error;
      return summary;
    }
    if (auto done = plan_and_work(request, summary); !done) {
      log()->error("the pass failed ({}): {}", to_string(done.error().kind), done.error().message);
      summary.failed = true;
      summary.error_kind = done.error().kind;
    }
  } catch (const std::exception& e) {  // a bug (failures are values, with their kind): the daemon goes on
    log()->error("the pass failed: {}", e.what());
    summary.failed = true;
  }
  store_->forget_verified();  // each pass verifies what it binds afresh; an idle daemon keeps nothing
  ::malloc_trim(0);           // and gives back what the pass's plan held (glibc keeps it otherwise)
  if (!lock_between_passes_) store_->release_writer_lock();  // commands may write until the next pass
  summary.status_line = status_line(summary);
  log()->info("{}", summary.status_line);
  return summary;
}

Result<void> Engine::plan_and_work(const PassRequest& request, PassSummary& summary) {
  // Every temporary in the state directory is a crashed run's: this pass holds the writer lock and has not
  // written yet.
  if (auto swept = store_->remove_stale_temporaries(Seconds{0}); !swept)
    log()->warn("cannot remove the temporaries of an interrupted run: {}", swept.error().message);
  Rng rng{std::random_device{}()};
  ScheduleReads schedules(*store_);  // each record read once in the pass
  auto inventory = store_->inventory(InventoryDetail::Plan);  // one scan for the renewal information and the plan
  SharedStore shared(*store_);  // the pass's worker threads write through it
  if (inventory) refresh_renewal_info_from_ca(shared, *inventory, policy_->ca, request.now, request.cancel);
  auto before = plan_now(*store_, *policy_, request.now, rng, schedules, std::move(inventory));
  if (!before) return std::unexpected(before.error().context("planning the pass"));
  Jobs jobs;
  jobs.schedules = &schedules;
  std::vector<Job*> rebinds, orders;
  before->actions.for_each(before->store, [&](const policy::Action& a) {
    auto backoff = initial_backoff(schedules, a.certificate.id, request.reason);
    log()->info("{}: {} — {}", a.certificate.id, to_string(a.kind), a.reason);
    if (a.kind == ActionKind::Keep) {
      if (backoff != jobs.backoff(a.certificate.id)) jobs.kept.emplace(a.certificate.id, std::move(backoff));
    } else {
      Job& job = jobs.work[a.certificate.id] = Job{a, std::move(backoff), false, std::nullopt, {}, {}, {}};
      if (may_attempt(job, request)) (a.kind == ActionKind::Rebind ? rebinds : orders).push_back(&job);
    }
  });
  // Each job has its copy; the summary and the schedules read none of the names (at 10,000
  // certificates they were a tenth of what the pass held: issue 26).
  for (auto& a : before->actions.others()) std::vector<policy::RequiredName>().swap(a.certificate.names);
  // The stored version each rebind and renewal starts from, found in the plan's view of the store
  // (a scan of the store per job made a pass over many such jobs quadratic: issue 26).
  for (auto* group : {&rebinds, &orders})
    for (auto* j : *group)
      if (j->action.thumbprint)
        if (const VersionRef* v = before->store.find(*j->action.thumbprint)) j->from_version = v->id;
  // The policy's ca.concurrency, else the engine's default (4).
  const std::size_t concurrency =
      policy_->ca.concurrency ? static_cast<std::size_t>(*policy_->ca.concurrency) : options_.concurrency;
  const auto worked = work(request, *policy_, shared, concurrency, before->selections, schedules, rebinds, orders);
  if (!worked) return std::unexpected(worked.error());
  const bool changed = *worked;
  // A certificate issued in this pass gets the CA's window now, not at the next wake (which the
  // lifetime rule alone would put weeks ahead): one request per new certificate, none when the
  // CA offers no ARI (the order noted its directory).
  if (std::any_of(orders.begin(), orders.end(), [](const Job* j) { return j->attempted && !j->error; }))
    if (auto inv = store_->inventory(InventoryDetail::Plan); inv)
      refresh_renewal_info_from_ca(shared, *inv, policy_->ca, request.now, request.cancel);
  // Nothing done, nothing changed: the plan after the pass is the plan before it (no second scan).
  Result<Planned> after = std::move(before);
  if (changed) {
    after->store = {};  // freed before the store is read afresh
    after = plan_now(*store_, *policy_, request.now, rng, schedules, store_->inventory(InventoryDetail::Plan));
  }
  if (!after) return std::unexpected(after.error().context("planning after the work of the pass"));
  save_schedules(shared, schedules, *after, jobs, request.now);
  // The summary last, once the renewal decisions (read by save_schedules only) are let go: 1.5 MB
  // less beside the summary's statuses at 10,000 certificates (issue 26).
  after->selections.clear();
  summarize(summary, after->store, after->actions, jobs, request.now);
  if (after->ari_recheck && (!summary.next_wake || *after->ari_recheck < *summary.next_wake))
    summary.next_wake = after->ari_recheck;
  return ok();
}

}  // namespace certagent::agent
