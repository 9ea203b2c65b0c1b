#pragma once
// dns-persist-01 (draft-ietf-acme-dns-persist): nothing to present — the operator published
// `_validation-persist.<name>` once. present() reads the record (read-only, ldns) and refuses
// early, naming the record to create, when it is missing or wrong; when DNS cannot be read
// it leaves the verdict to the CA. clean_up() removes nothing: the record is meant to stay.
#include <chrono>
#include <optional>
#include <string>

#include "protocol/acme/challenge.hpp"
#include "protocol/dns/persist_record.hpp"
#include "protocol/dns/txt_lookup.hpp"

namespace certagent::protocol {

struct DnsPersistOptions {
  TxtLookupOptions lookup;
  std::optional<std::string> issuer_domain;  // the policy's choice; unset: the CA's first
  std::chrono::system_clock::time_point (*now)() = &std::chrono::system_clock::now;  // persistUntil
};

// The issuer domain to name: the policy's when the CA offers it (Policy error otherwise),
// else the CA's first.
[[nodiscard]] Result<std::string> choose_issuer_domain(const std::vector<std::string>& offered,
                                                       const std::optional<std::string>& wanted);

class DnsPersistSolver final : public ChallengeSolver {
 public:
  explicit DnsPersistSolver(DnsPersistOptions options) : options_(std::move(options)) {}
  [[nodiscard]] std::string_view type() const override { return "dns-persist-01"; }
  [[nodiscard]] Result<void> present(const ChallengeTask& task) override;
  [[nodiscard]] Result<void> clean_up(const ChallengeTask&) override { return {}; }

 private:
  DnsPersistOptions options_;
};

}  // namespace certagent::protocol
