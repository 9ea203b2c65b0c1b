#include "protocol/acme/dns_persist_solver.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/acme/log.hpp"

namespace certagent::protocol {

Result<std::string> choose_issuer_domain(const std::vector<std::string>& offered,
                                         const std::optional<std::string>& wanted) {
  if (offered.empty()) return fail(ErrorKind::Protocol, "the CA names no issuer domain for dns-persist-01");
  if (!wanted) return offered.front();
  if (std::find(offered.begin(), offered.end(), *wanted) != offered.end()) return *wanted;
  return fail(ErrorKind::Policy, fmt::format("the policy's issuer_domain '{}' is not one the CA accepts for "
                                             "dns-persist-01 (it names: {})", *wanted, fmt::join(offered, ", ")));
}

Result<void> DnsPersistSolver::present(const ChallengeTask& task) {
  auto issuer = choose_issuer_domain(task.issuer_domain_names, options_.issuer_domain);
  if (!issuer) return std::unexpected(issuer.error());
  const auto expected = expected_persist_record((task.wildcard ? "*." : "") + task.identifier, *issuer,
                                                task.account_uri);
  auto txts = lookup_txt(expected.name, options_.lookup);
  if (!txts) {
    acme_log().warn("could not read {} ({}); asking the CA to validate {} anyway", expected.name,
                    txts.error().message, task.identifier);
    return {};
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(options_.now().time_since_epoch()).count();
  auto check = check_persist_record(expected, *txts, task.issuer_domain_names, now);
  if (check.verdict == PersistVerdict::Present) {
    acme_log().debug("{} authorizes {} for this account", expected.name, task.identifier);
    return {};
  }
  return fail(ErrorKind::Unauthorized,
              fmt::format("the dns-persist-01 record for {}{} is {} ({}): {}", task.wildcard ? "*." : "",
                          task.identifier, to_string(check.verdict),
                          check.detail, persist_instruction(expected)),
              true);
}

}  // namespace certagent::protocol
