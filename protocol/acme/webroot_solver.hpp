#pragma once
// The webroot http-01 solver: an existing web server serves the answer from
// <webroot>/.well-known/acme-challenge/<token>. Every step below the webroot
// is taken relative to a directory descriptor with O_NOFOLLOW, so a symlink
// planted as .well-known, acme-challenge or the token file is refused or
// replaced, never followed; a token is checked to be base64url before use.
#include <filesystem>
#include <memory>
#include <string_view>

#include "common/error.hpp"
#include "protocol/acme/challenge.hpp"

namespace certagent::protocol {

class WebrootSolver final : public ChallengeSolver {
 public:
  // The webroot itself must exist (it may be a symlink the operator made);
  // the two directories below it are created (mode 0755) when missing.
  explicit WebrootSolver(std::filesystem::path webroot);
  ~WebrootSolver() override;
  WebrootSolver(const WebrootSolver&) = delete;
  WebrootSolver& operator=(const WebrootSolver&) = delete;

  [[nodiscard]] std::string_view type() const override { return "http-01"; }
  // Writes the key authorization (mode 0644) through a temporary file renamed
  // into place. Errors: Protocol/Invalid for a refused task, Storage for the
  // file system (including a symlinked directory). Thread-safe.
  [[nodiscard]] Result<void> present(const ChallengeTask& task) override;
  // Removes the file; once no presented token remains, also removes the
  // directories this solver created, if they are empty. Thread-safe.
  [[nodiscard]] Result<void> clean_up(const ChallengeTask& task) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certagent::protocol
