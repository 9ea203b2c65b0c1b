#include "protocol/acme/dns01_hook_solver.hpp"

#include <mutex>
#include <set>
#include <utility>

#include "common/dns_name.hpp"
#include "common/escape.hpp"
#include "common/process.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace {

constexpr std::size_t kMaxValueLength = 128;  // base64url of SHA-256 is 43

Result<std::pair<std::string, std::string>> checked_arguments(const ChallengeTask& task) {
  if (!task.type.empty() && task.type != "dns-01")
    return fail(ErrorKind::Invalid, "a dns-01 solver was given a '" + escape_control(task.type, 40) + "' challenge");
  auto record = dns01_record_name(task.identifier);
  if (!record) return std::unexpected(record.error());
  if (task.dns01_value.size() > kMaxValueLength || !is_base64url(task.dns01_value))
    return fail(ErrorKind::Invalid, "dns-01 value for '" + *record + "' is not base64url: '" +
                                        escape_control(task.dns01_value, 80) + "'");
  return std::pair{std::move(*record), task.dns01_value};
}

}  // namespace

Result<std::string> dns01_record_name(std::string_view identifier) {
  std::string_view name = identifier;
  if (name.starts_with("*.")) name.remove_prefix(2);
  auto normal = normalize_dns_name(name);
  if (!normal)
    return fail(ErrorKind::Invalid, "dns-01 identifier '" + escape_control(identifier, 300) +
                                        "' is not a DNS name (" + escape_control(normal.error().message, 400) + ")");
  if (normal->starts_with("*"))
    return fail(ErrorKind::Invalid, "dns-01 identifier '" + escape_control(identifier, 300) + "' has two wildcards");
  auto record = "_acme-challenge." + *normal;
  if (record.size() > 253)
    return fail(ErrorKind::Invalid, "dns-01 record name for '" + *normal + "' would exceed 253 octets");
  return record;
}

namespace {

struct HookRunner {
  Dns01HookOptions options;
  std::mutex mu;
  std::set<std::pair<std::string, std::string>> attempted;  // (record, value) given to `add`

  Result<void> run(std::string_view verb, const std::string& record, const std::string& value) const {
    ProcessSpec spec;
    spec.argv = {options.hook.string(), std::string(verb), record, value};
    spec.env = options.env;
    spec.inherit_path = options.inherit_path;
    spec.working_dir = options.working_dir.string();
    spec.timeout = options.timeout;
    spec.cancel = options.cancel;
    const std::string what = "dns-01 hook '" + escape_control(options.hook.string(), 400) + "' " +
                             std::string(verb) + " " + record;
    if (options.hook.empty() || options.hook.is_relative())
      return fail(ErrorKind::Invalid, what + ": the hook must be given as an absolute path");
    auto outcome = run_process(spec);
    if (!outcome) return std::unexpected(outcome.error().context(what));
    if (outcome->succeeded()) return ok();
    std::string message = what + ": " + describe(*outcome, spec);
    if (outcome->cancelled) return fail(ErrorKind::Cancelled, std::move(message));
    if (!outcome->err.empty()) message += "; stderr: " + escape_control(outcome->err, 2000);
    return fail(outcome->timed_out ? ErrorKind::Timeout : ErrorKind::Hook, std::move(message), outcome->timed_out);
  }
};

class Dns01HookSolver final : public ChallengeSolver {
 public:
  explicit Dns01HookSolver(Dns01HookOptions options) { hook_.options = std::move(options); }
  [[nodiscard]] std::string_view type() const override { return "dns-01"; }
  [[nodiscard]] Result<void> present(const ChallengeTask& task) override;
  [[nodiscard]] Result<void> clean_up(const ChallengeTask& task) override;

 private:
  HookRunner hook_;
};

Result<void> Dns01HookSolver::present(const ChallengeTask& task) {
  auto args = checked_arguments(task);
  if (!args) return std::unexpected(args.error().context("presenting dns-01"));
  {
    std::lock_guard lock(hook_.mu);
    hook_.attempted.insert(*args);
  }
  auto added = hook_.run("add", args->first, args->second);
  if (!added) return std::unexpected(added.error().context("presenting dns-01"));
  return ok();
}

Result<void> Dns01HookSolver::clean_up(const ChallengeTask& task) {
  auto args = checked_arguments(task);
  if (!args) return ok();  // present() refused it: nothing was added
  {
    std::lock_guard lock(hook_.mu);
    if (!hook_.attempted.contains(*args)) return ok();
  }
  auto removed = hook_.run("remove", args->first, args->second);
  if (!removed) return std::unexpected(removed.error().context("cleaning up dns-01"));
  std::lock_guard lock(hook_.mu);
  hook_.attempted.erase(*args);  // a failed remove stays on record, so it can be retried
  return ok();
}

}  // namespace

std::unique_ptr<ChallengeSolver> make_dns01_hook_solver(Dns01HookOptions options) {
  return std::make_unique<Dns01HookSolver>(std::move(options));
}

}  // namespace certagent::protocol
