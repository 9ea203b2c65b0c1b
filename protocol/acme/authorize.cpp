#include "common/escape.hpp"
#include "protocol/acme/authorize.hpp"

#include <algorithm>
#include <utility>

#include "protocol/acme/json.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/acme/challenge_check.hpp"
#include "protocol/acme/jws.hpp"
#include "protocol/dns/persist_record.hpp"

namespace certagent::protocol {
namespace {

constexpr size_t kMaxFailuresShown = 5;

bool is_final_failure(const std::string& status) {
  return status == "invalid" || status == "deactivated" || status == "expired" || status == "revoked";
}

std::string problem_text(const std::optional<Problem>& p) {
  if (!p) return "no detail from the CA";
  std::string text(short_type(p->type));
  if (!p->detail.empty()) text += ": " + p->detail;
  return text;
}

const Challenge* challenge_of_type(const Authorization& authz, std::string_view type) {
  for (const auto& c : authz.challenges)
    if (c.type == type) return &c;
  return nullptr;
}

const Challenge* failed_challenge(const Authorization& authz) {
  for (const auto& c : authz.challenges)
    if (c.error) return &c;
  return nullptr;
}

// The error for authorizations that failed: each failing name with the CA's reason.
Error validation_error(const std::vector<Authorization>& failed) {
  std::string message = "validation failed for " + std::to_string(failed.size()) + " name(s): ";
  ErrorKind kind = ErrorKind::Unauthorized;
  bool retryable = true;
  for (size_t i = 0; i < failed.size() && i < kMaxFailuresShown; ++i) {
    const Challenge* c = failed_challenge(failed[i]);
    if (i == 0 && c != nullptr) {
      auto cls = classify_problem(c->error->type, 403);
      kind = cls.kind;
      retryable = cls.retryable;
    }
    if (i > 0) message += "; ";
    message += escape_control(failed[i].identifier.value, 255) + " (" + failed[i].status + "): " +
               (c != nullptr ? problem_text(c->error) : std::string("no challenge error given"));
  }
  if (failed.size() > kMaxFailuresShown) message += "; ...";
  Error err(kind, message, retryable);
  if (const Challenge* c = failed.empty() ? nullptr : failed_challenge(failed.front())) err.problem_type = c->error->type;
  return err;
}

Result<std::vector<Authorization>> fetch_authorizations(AcmeSession& session, const std::vector<std::string>& urls) {
  std::vector<Authorization> out;
  out.reserve(urls.size());
  for (const auto& url : urls) {
    auto authz = fetch_authorization(session, url);
    if (!authz) return std::unexpected(authz.error());
    out.push_back(std::move(*authz));
  }
  return out;
}

// dns-persist-01 presents nothing (it reads the operator's records): after a first failure the
// rest are still checked, so that one error names every record to create.
Error with_other_persist_failures(ChallengeSolver& solver, const std::vector<ChallengeTask>& tasks, size_t failed,
                                  Error first) {
  size_t count = 1;
  for (size_t i = failed + 1; i < tasks.size(); ++i) {
    auto r = solver.present(tasks[i]);
    if (r) continue;
    if (++count <= kMaxFailuresShown) first.message += "; " + r.error().message;
  }
  if (count > kMaxFailuresShown) first.message += "; ...";
  if (count > 1) first.message = std::to_string(count) + " records: " + first.message;
  return first;
}

// Presents every task; on a failure withdraws the ones already presented. A batch solver
// presents all at once and is then asked to clean up all (it knows what it published), and
// returns when every answer is visible where the CA looks.
Result<void> present_all(ChallengeSolver& solver, const std::vector<ChallengeTask>& tasks, size_t& presented,
                         AcmeSession& session) {
  if (solver.presents_batches()) {
    presented = tasks.size();
    const std::string doing = "presenting " + std::to_string(tasks.size()) + " " + std::string(solver.type()) +
                              " challenge(s)";
    if (auto r = solver.present_batch(tasks); !r) return std::unexpected(std::move(r.error()).context(doing));
    if (auto r = solver.await_published(tasks, session.clock(), session.waiter()); !r)
      return std::unexpected(std::move(r.error()).context(doing));
    return ok();
  }
  for (presented = 0; presented < tasks.size(); ++presented) {
    auto r = solver.present(tasks[presented]);
    if (r) continue;
    const std::string doing = "presenting the " + tasks[presented].type + " challenge for " + tasks[presented].identifier;
    if (solver.type() == "dns-persist-01")
      return std::unexpected(with_other_persist_failures(solver, tasks, presented, std::move(r.error())).context(doing));
    return std::unexpected(std::move(r.error()).context(doing));
  }
  return ok();
}

void clean_up_all(ChallengeSolver& solver, const std::vector<ChallengeTask>& tasks, size_t presented) {
  if (solver.presents_batches()) {
    if (presented == 0) return;
    if (auto r = solver.clean_up_batch(tasks); !r)
      acme_log().warn("cleaning up {} {} challenge(s): {}", tasks.size(), solver.type(), r.error().message);
    return;
  }
  for (size_t i = 0; i < presented && i < tasks.size(); ++i) {
    if (auto r = solver.clean_up(tasks[i]); !r)
      acme_log().warn("cleaning up the {} challenge for {}: {}", tasks[i].type, tasks[i].identifier, r.error().message);
  }
}

// A challenge answered in this call and what the CA last said of it (§7.5.1: the response to
// the POST is the challenge). No state: the response was not a challenge; the order tells.
struct Answered {
  const ChallengeTask* task = nullptr;
  std::string url;
  std::optional<Challenge> state;
  int reposts = 0;
};

// A challenge left pending with an error (step-ca: it could not connect) is validated again
// only when POSTed again (§8.2 lets the client ask for that): at most this many times, on the
// poll schedule's back-off (40 ms doubling: about 2.5 s in all, under the engine's 10 s hand-back).
constexpr int kMaxReposts = 6;

Result<void> post_challenge(AcmeSession& session, Answered& a) {
  auto r = session.post(a.url, "{}", "answering the " + a.task->type + " challenge for " + a.task->identifier);
  if (!r) return std::unexpected(r.error());
  a.state.reset();
  if (auto obj = json_body(*r, "challenge"))
    if (auto c = parse_challenge(*obj)) a.state = std::move(*c);
  return ok();
}

// The CA's own problem for one name whose challenge failed: kind and type from its problem.
Error challenge_error(const Answered& a, const std::string& how) {
  const auto& c = *a.state;
  auto cls = c.error ? classify_problem(c.error->type, 403) : ProblemClass{ErrorKind::Unauthorized, true};
  std::string record;  // dns-persist-01: the record the CA read, for the operator to fix
  if (a.task->type == "dns-persist-01") record = " (the record " + expected_persist_record(a.task->identifier, "", "").name + ")";
  Error err(cls.kind, "validation failed for " + escape_control(a.task->identifier, 255) + " (challenge " + how +
                          "): " + problem_text(c.error) + record, cls.retryable);
  if (c.error) err.problem_type = c.error->type;
  return err;
}

bool pending_with_error(const Answered& a) { return a.state && a.state->status == "pending" && a.state->error; }

// What the challenge responses already say: an invalid challenge fails the order now.
Result<void> check_answers(const std::vector<Answered>& answered) {
  for (const auto& a : answered)
    if (a.state && a.state->status == "invalid") return std::unexpected(challenge_error(a, "invalid"));
  return ok();
}

// POSTs again every challenge left pending with an error; an error once they have been
// POSTed kMaxReposts times.
Result<void> repost_failed(AcmeSession& session, std::vector<Answered>& answered) {
  for (auto& a : answered) {
    if (!pending_with_error(a)) continue;
    if (a.reposts >= kMaxReposts)
      return std::unexpected(challenge_error(a, "still pending after " + std::to_string(a.reposts + 1) + " attempts"));
    acme_log().info("the {} challenge for {} is pending with an error ({}); asking the CA to validate it again",
                    a.task->type, a.task->identifier, problem_text(a.state->error));
    ++a.reposts;
    if (auto r = post_challenge(session, a); !r) return r;
  }
  return check_answers(answered);
}

Result<Order> poll_while_pending(AcmeSession& session, Order order, const PollPolicy& policy,
                                 std::vector<Answered>& answered) {
  PollSchedule schedule(policy, session.clock().now());
  const std::string what = "waiting for the CA to validate " + std::to_string(order.identifiers.size()) + " name(s)";
  std::optional<std::chrono::seconds> retry_after;
  // Every challenge already valid (a CA that validates inside the POST): look at the order at once.
  bool look_now = !answered.empty() && std::all_of(answered.begin(), answered.end(), [](const Answered& a) {
    return a.state && a.state->status == "valid";
  });
  while (order.status == "pending") {
    if (!std::exchange(look_now, false)) {
      auto at = schedule.next(session.clock().now(), retry_after, what);
      if (!at) return std::unexpected(at.error());
      if (auto w = session.waiter().wait_until(*at); !w) return std::unexpected(std::move(w.error()).context(what));
      if (auto r = repost_failed(session, answered); !r) return std::unexpected(r.error());
    }
    auto fresh = fetch_order(session, order.url);
    if (!fresh) return std::unexpected(fresh.error());
    retry_after = fresh->retry_after;
    order = std::move(*fresh);
  }
  return order;
}

Result<Order> explain_invalid(AcmeSession& session, const Order& order, const std::vector<std::string>& urls) {
  auto authz = fetch_authorizations(session, urls);
  if (!authz) return std::unexpected(authz.error());
  std::vector<Authorization> failed;
  for (auto& a : *authz)
    if (a.status != "valid") failed.push_back(std::move(a));
  if (failed.empty())
    return fail(ErrorKind::Rejected, "the order became invalid: " + problem_text(order.error));
  return std::unexpected(validation_error(failed));
}

// dns-persist-01 has no token: the record names the CA and the account instead.
Result<ChallengeTask> task_for(const Authorization& authz, const Challenge& c, std::string_view account_thumbprint) {
  const std::string name = escape_control(authz.identifier.value, 255);
  if (c.type == "dns-persist-01") {
    if (c.refused) return std::unexpected(c.refused->context("for " + name));
    ChallengeTask task{authz.identifier.value, c.type, "", "", ""};
    task.wildcard = authz.wildcard;
    task.issuer_domain_names = c.issuer_domain_names;
    task.account_uri = c.account_uri;
    return task;
  }
  if (auto checked = check_token(c.token); !checked)
    return std::unexpected(std::move(checked.error())
                               .context("the challenge token for " + name + " ('" + escape_control(c.token, 80) +
                                        "') is not base64url"));
  std::string key_auth = key_authorization(c.token, account_thumbprint);
  ChallengeTask task{authz.identifier.value, c.type, c.token, key_auth, dns01_value(key_auth)};
  task.wildcard = authz.wildcard;  // a challenge per name routes "*.<identifier>" on its own
  return task;
}

}  // namespace

namespace {

template <class TypeFor>
Result<std::vector<ChallengeTask>> tasks_by(const Order& order, const std::vector<Authorization>& authorizations,
                                            const TypeFor& type_for, std::string_view account_thumbprint,
                                            std::vector<std::string>* challenge_urls) {
  std::vector<ChallengeTask> tasks;
  auto names = identifier_names(order.identifiers);
  std::vector<Authorization> failed;
  for (const auto& authz : authorizations) {
    std::string name = (authz.wildcard ? "*." : "") + authz.identifier.value;
    if (!std::binary_search(names.begin(), names.end(), normalized_names({name}).front()))
      return fail(ErrorKind::Protocol, "an authorization names " + escape_control(name, 255) + ", which the order does not");
    if (authz.status == "valid") continue;
    if (is_final_failure(authz.status)) {
      failed.push_back(authz);
      continue;
    }
    const std::string_view challenge_type = type_for(name);
    const Challenge* c = challenge_of_type(authz, challenge_type);
    if (c == nullptr)
      return fail(ErrorKind::Rejected, "the CA offers no " + std::string(challenge_type) + " challenge for " +
                                           escape_control(authz.identifier.value, 255));
    auto task = task_for(authz, *c, account_thumbprint);
    if (!task) return std::unexpected(task.error());
    tasks.push_back(std::move(*task));
    if (challenge_urls != nullptr) challenge_urls->push_back(c->status == "pending" ? c->url : std::string());
  }
  if (!failed.empty()) return std::unexpected(validation_error(failed));
  return tasks;
}

}  // namespace

Result<std::vector<ChallengeTask>> challenge_tasks(const Order& order, const std::vector<Authorization>& authorizations,
                                                   std::string_view challenge_type, std::string_view account_thumbprint,
                                                   std::vector<std::string>* challenge_urls) {
  return tasks_by(order, authorizations, [&](const std::string&) { return challenge_type; }, account_thumbprint,
                  challenge_urls);
}

Result<std::vector<ChallengeTask>> challenge_tasks(const Order& order, const std::vector<Authorization>& authorizations,
                                                   const ChallengeSolver& solver, std::string_view account_thumbprint,
                                                   std::vector<std::string>* challenge_urls) {
  return tasks_by(order, authorizations, [&](const std::string& name) { return solver.type_for(name); },
                  account_thumbprint, challenge_urls);
}

Result<Order> authorize_order(AcmeSession& session, const Order& order, ChallengeSolver& solver,
                              const AuthorizeOptions& options) {
  if (order.status == "invalid") return fail(ErrorKind::Rejected, "the order is invalid: " + problem_text(order.error));
  if (order.status != "pending") return order;
  auto authz = fetch_authorizations(session, order.authorizations);
  if (!authz) return std::unexpected(authz.error());
  std::vector<std::string> urls;
  auto thumbprint = session.account_thumbprint();
  if (!thumbprint) return std::unexpected(thumbprint.error());
  auto tasks = challenge_tasks(order, *authz, solver, *thumbprint, &urls);
  if (!tasks) return std::unexpected(tasks.error());
  for (auto& t : *tasks)
    if (t.type == "dns-persist-01" && t.account_uri.empty()) t.account_uri = session.account().url;
  acme_log().debug("order {}: {} authorization(s), {} to validate with {}", order.url, authz->size(), tasks->size(),
                   solver.type());
  size_t presented = 0;
  auto result = [&]() -> Result<Order> {
    if (auto p = present_all(solver, *tasks, presented, session); !p) return std::unexpected(p.error());
    std::vector<Answered> answered;
    for (size_t i = 0; i < urls.size(); ++i) {
      if (urls[i].empty()) continue;  // already processing: the CA is on it
      answered.push_back(Answered{&(*tasks)[i], urls[i], std::nullopt, 0});
      if (auto r = post_challenge(session, answered.back()); !r) return std::unexpected(r.error());
    }
    if (auto checked = check_answers(answered); !checked) return std::unexpected(checked.error());
    return poll_while_pending(session, order, options.poll, answered);
  }();
  clean_up_all(solver, *tasks, presented);
  if (!result) return result;
  if (result->status == "invalid") return explain_invalid(session, *result, order.authorizations);
  return result;
}

}  // namespace certagent::protocol
