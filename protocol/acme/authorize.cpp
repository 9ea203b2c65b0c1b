#include "protocol/acme/authorize.hpp"

#include <algorithm>

#include "protocol/acme/json.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/acme/challenge_check.hpp"
#include "protocol/acme/jws.hpp"

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
    message += sanitize(failed[i].identifier.value, 255) + " (" + failed[i].status + "): " +
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

// Presents every task; on a failure withdraws the ones already presented.
Result<void> present_all(ChallengeSolver& solver, const std::vector<ChallengeTask>& tasks, size_t& presented) {
  for (presented = 0; presented < tasks.size(); ++presented) {
    auto r = solver.present(tasks[presented]);
    if (!r) return std::unexpected(std::move(r.error()).context("presenting the " + tasks[presented].type +
                                                                " challenge for " + tasks[presented].identifier));
  }
  return ok();
}

void clean_up_all(ChallengeSolver& solver, const std::vector<ChallengeTask>& tasks, size_t presented) {
  for (size_t i = 0; i < presented && i < tasks.size(); ++i) {
    if (auto r = solver.clean_up(tasks[i]); !r)
      acme_log().warn("cleaning up the {} challenge for {}: {}", tasks[i].type, tasks[i].identifier, r.error().message);
  }
}

Result<Order> poll_while_pending(AcmeSession& session, Order order, const PollPolicy& policy) {
  PollSchedule schedule(policy, session.clock().now());
  const std::string what = "waiting for the CA to validate " + std::to_string(order.identifiers.size()) + " name(s)";
  std::optional<std::chrono::seconds> retry_after;
  while (order.status == "pending") {
    auto at = schedule.next(session.clock().now(), retry_after, what);
    if (!at) return std::unexpected(at.error());
    if (auto w = session.waiter().wait_until(*at); !w) return std::unexpected(std::move(w.error()).context(what));
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

}  // namespace

Result<std::vector<ChallengeTask>> challenge_tasks(const Order& order, const std::vector<Authorization>& authorizations,
                                                   std::string_view challenge_type, std::string_view account_thumbprint,
                                                   std::vector<std::string>* challenge_urls) {
  std::vector<ChallengeTask> tasks;
  auto names = identifier_names(order.identifiers);
  std::vector<Authorization> failed;
  for (const auto& authz : authorizations) {
    std::string name = (authz.wildcard ? "*." : "") + authz.identifier.value;
    if (!std::binary_search(names.begin(), names.end(), normalized_names({name}).front()))
      return fail(ErrorKind::Protocol, "an authorization names " + sanitize(name, 255) + ", which the order does not");
    if (authz.status == "valid") continue;
    if (is_final_failure(authz.status)) {
      failed.push_back(authz);
      continue;
    }
    const Challenge* c = challenge_of_type(authz, challenge_type);
    if (c == nullptr)
      return fail(ErrorKind::Rejected, "the CA offers no " + std::string(challenge_type) + " challenge for " +
                                           sanitize(authz.identifier.value, 255));
    if (auto checked = check_token(c->token); !checked)
      return std::unexpected(std::move(checked.error())
                                 .context("the challenge token for " + sanitize(authz.identifier.value, 255) +
                                          " ('" + sanitize(c->token, 80) + "') is not base64url"));
    std::string key_auth = key_authorization(c->token, account_thumbprint);
    tasks.push_back(ChallengeTask{authz.identifier.value, c->type, c->token, key_auth, dns01_value(key_auth)});
    if (challenge_urls != nullptr) challenge_urls->push_back(c->status == "pending" ? c->url : std::string());
  }
  if (!failed.empty()) return std::unexpected(validation_error(failed));
  return tasks;
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
  auto tasks = challenge_tasks(order, *authz, solver.type(), *thumbprint, &urls);
  if (!tasks) return std::unexpected(tasks.error());
  acme_log().debug("order {}: {} authorization(s), {} to validate with {}", order.url, authz->size(), tasks->size(),
                   solver.type());
  size_t presented = 0;
  auto result = [&]() -> Result<Order> {
    if (auto p = present_all(solver, *tasks, presented); !p) return std::unexpected(p.error());
    for (size_t i = 0; i < urls.size(); ++i) {
      if (urls[i].empty()) continue;  // already processing: the CA is on it
      auto r = session.post(urls[i], "{}", "answering the " + (*tasks)[i].type + " challenge for " + (*tasks)[i].identifier);
      if (!r) return std::unexpected(r.error());
    }
    return poll_while_pending(session, order, options.poll);
  }();
  clean_up_all(solver, *tasks, presented);
  if (!result) return result;
  if (result->status == "invalid") return explain_invalid(session, *result, order.authorizations);
  return result;
}

}  // namespace certagent::protocol
