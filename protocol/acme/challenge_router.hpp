#pragma once
// A challenge per name: one certificate's names answered by several solvers (http-01 for the
// public names, dns-01 for the internal ones and the wildcards, ...). The router is the solver
// authorize_order sees: it tells the type per name and hands each solver its own tasks, as a
// batch to a solver that publishes batches (one DNS UPDATE for all its records). Thread-safe as
// its solvers are.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/acme/challenge.hpp"

namespace certagent::protocol {

class ChallengeRouter final : public BatchSolver {
 public:
  // `route` gives, for a name ("*.example.com" for a wildcard), the index of its solver.
  using Route = std::function<std::size_t(std::string_view name)>;
  ChallengeRouter(std::vector<std::unique_ptr<ChallengeSolver>> solvers, Route route);

  [[nodiscard]] std::string_view type() const override { return types_; }  // "http-01+dns-01"
  [[nodiscard]] std::string_view type_for(std::string_view name) const override;
  [[nodiscard]] Result<void> present_batch(const std::vector<ChallengeTask>& tasks) override;
  [[nodiscard]] Result<void> await_published(const std::vector<ChallengeTask>& tasks, const Clock& clock,
                                             Waiter& waiter) override;
  [[nodiscard]] Result<void> clean_up_batch(const std::vector<ChallengeTask>& tasks) override;

 private:
  [[nodiscard]] std::size_t index_of(const ChallengeTask& task) const;
  // The tasks of each solver, in the order given.
  [[nodiscard]] std::vector<std::vector<ChallengeTask>> split(const std::vector<ChallengeTask>& tasks) const;

  std::vector<std::unique_ptr<ChallengeSolver>> solvers_;
  Route route_;
  std::string types_;
  // No state per batch: the orders of a pass share one router and run at once. Clean-up asks
  // every solver to withdraw all of its tasks, which each does safely for a task never presented.
};

}  // namespace certagent::protocol
