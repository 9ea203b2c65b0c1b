#include "protocol/acme/challenge_router.hpp"

#include <algorithm>
#include <stdexcept>


namespace certagent::protocol {
namespace {

std::string name_of(const ChallengeTask& task) { return (task.wildcard ? "*." : "") + task.identifier; }

}  // namespace

ChallengeRouter::ChallengeRouter(std::vector<std::unique_ptr<ChallengeSolver>> solvers, Route route)
    : solvers_(std::move(solvers)), route_(std::move(route)) {
  if (solvers_.empty()) throw std::invalid_argument("ChallengeRouter needs at least one solver");
  for (const auto& s : solvers_) {
    if (types_.find(s->type()) != std::string::npos) continue;
    types_ += (types_.empty() ? "" : "+") + std::string(s->type());
  }
}

std::size_t ChallengeRouter::index_of(const ChallengeTask& task) const {
  return std::min(route_(name_of(task)), solvers_.size() - 1);
}

std::string_view ChallengeRouter::type_for(std::string_view name) const {
  return solvers_[std::min(route_(name), solvers_.size() - 1)]->type();
}

std::vector<std::vector<ChallengeTask>> ChallengeRouter::split(const std::vector<ChallengeTask>& tasks) const {
  std::vector<std::vector<ChallengeTask>> out(solvers_.size());
  for (const auto& t : tasks) out[index_of(t)].push_back(t);
  return out;
}

// Each solver in turn; the first failure stops (authorize_order then calls clean_up_batch, which
// withdraws everything).
Result<void> ChallengeRouter::present_batch(const std::vector<ChallengeTask>& tasks) {
  const auto groups = split(tasks);
  for (std::size_t i = 0; i < solvers_.size(); ++i) {
    if (groups[i].empty()) continue;
    auto& solver = *solvers_[i];
    if (solver.presents_batches()) {
      if (auto r = solver.present_batch(groups[i]); !r) return r;
      continue;
    }
    for (const auto& t : groups[i])
      if (auto r = solver.present(t); !r)
        return std::unexpected(std::move(r.error()).context("presenting the " + t.type + " challenge for " + name_of(t)));
  }
  return {};
}

Result<void> ChallengeRouter::await_published(const std::vector<ChallengeTask>& tasks, const Clock& clock,
                                              Waiter& waiter) {
  const auto groups = split(tasks);
  for (std::size_t i = 0; i < solvers_.size(); ++i)
    if (!groups[i].empty())
      if (auto r = solvers_[i]->await_published(groups[i], clock, waiter); !r) return r;
  return {};
}

Result<void> ChallengeRouter::clean_up_batch(const std::vector<ChallengeTask>& tasks) {
  const auto groups = split(tasks);
  Result<void> first;
  for (std::size_t i = 0; i < solvers_.size(); ++i) {
    if (groups[i].empty()) continue;
    auto& solver = *solvers_[i];
    if (solver.presents_batches()) {
      if (auto r = solver.clean_up_batch(groups[i]); !r && first) first = std::move(r);
      continue;
    }
    for (const auto& t : groups[i])
      if (auto r = solver.clean_up(t); !r && first) first = std::move(r);
  }
  return first;
}

}  // namespace certagent::protocol
