#pragma once
// Challenge solvers (RFC 8555 §8): one small interface, several kinds.
// The ACME client hands a solver every pending challenge of an order at once
// (present all, then poll together), and cleans up every one afterwards.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/waiting.hpp"

namespace certagent::protocol {

struct ChallengeTask {
  ChallengeTask() = default;
  ChallengeTask(std::string identifier_, std::string type_, std::string token_, std::string key_authorization_,
                std::string dns01_value_)
      : identifier(std::move(identifier_)), type(std::move(type_)), token(std::move(token_)),
        key_authorization(std::move(key_authorization_)), dns01_value(std::move(dns01_value_)) {}

  std::string identifier;         // the DNS name being validated
  std::string type;               // "http-01", "dns-01", "dns-persist-01"
  std::string token;              // as the CA sent it — untrusted until checked
  std::string key_authorization;  // token "." base64url(JWK thumbprint)  (§8.1)
  std::string dns01_value;        // base64url(SHA-256(key_authorization)) (§8.4)
  bool wildcard = false;                      // the authorization is for "*.<identifier>"
  // dns-persist-01 (no token): what the _validation-persist record must name.
  std::vector<std::string> issuer_domain_names;  // the CA's, checked (order.hpp)
  std::string account_uri;                    // the challenge's accounturi, else the session's account URL
};

class ChallengeSolver {
 public:
  virtual ~ChallengeSolver() = default;
  [[nodiscard]] virtual std::string_view type() const = 0;  // the challenge type it answers
  // The type it answers for one name ("*.example.com" for a wildcard authorization): type(),
  // unless it routes names to several solvers (ChallengeRouter).
  [[nodiscard]] virtual std::string_view type_for(std::string_view /*name*/) const { return type(); }
  // Make the answer available. Refuses tokens that are not base64url.
  [[nodiscard]] virtual Result<void> present(const ChallengeTask& task) = 0;
  // Withdraw it. Safe to call for a task that was never presented.
  [[nodiscard]] virtual Result<void> clean_up(const ChallengeTask& task) = 0;

  // A solver that publishes a whole order at once (one DNS UPDATE for every TXT record)
  // says so; authorize_order then calls the three below instead of present/clean_up per task.
  [[nodiscard]] virtual bool presents_batches() const { return false; }
  [[nodiscard]] virtual Result<void> present_batch(const std::vector<ChallengeTask>& tasks);
  // Returns once every answer is visible where the CA will look (bounded; waits through `waiter`).
  [[nodiscard]] virtual Result<void> await_published(const std::vector<ChallengeTask>& /*tasks*/,
                                                     const Clock& /*clock*/, Waiter& /*waiter*/) {
    return {};
  }
  [[nodiscard]] virtual Result<void> clean_up_batch(const std::vector<ChallengeTask>& tasks);
};

// A solver that publishes a whole order at once (one DNS UPDATE per zone; a router of several
// solvers): one task is a batch of one.
class BatchSolver : public ChallengeSolver {
 public:
  [[nodiscard]] Result<void> present(const ChallengeTask& task) override { return present_batch({task}); }
  [[nodiscard]] Result<void> clean_up(const ChallengeTask& task) override { return clean_up_batch({task}); }
  [[nodiscard]] bool presents_batches() const override { return true; }
  [[nodiscard]] Result<void> present_batch(const std::vector<ChallengeTask>& tasks) override = 0;
  [[nodiscard]] Result<void> clean_up_batch(const std::vector<ChallengeTask>& tasks) override = 0;
};

inline Result<void> ChallengeSolver::present_batch(const std::vector<ChallengeTask>& tasks) {
  for (const auto& t : tasks)
    if (auto r = present(t); !r) return r;
  return {};
}

inline Result<void> ChallengeSolver::clean_up_batch(const std::vector<ChallengeTask>& tasks) {
  Result<void> first;
  for (const auto& t : tasks)
    if (auto r = clean_up(t); !r && first) first = std::move(r);
  return first;
}

}  // namespace certagent::protocol
