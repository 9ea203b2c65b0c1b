#include "agent/engine/records.hpp"

#include <fmt/format.h>

#include <string>

#include "agent/engine/env_seconds.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/schedule.hpp"

namespace certagent::agent {

BackoffPolicy engine_backoff_policy() {
  BackoffPolicy policy;
  const std::string effect =
      fmt::format("failed attempts back off from {{}} s, not {} s", policy.initial.count());
  if (auto s = seconds_from_environment("CERTAGENT_BACKOFF_INITIAL", Seconds(1), Seconds(3600), effect))
    policy.initial = *s;
  return policy;
}

Result<BackoffState> load_backoff(const Store& store, std::string_view certificate_id) {
  auto record = read_schedule(store, certificate_id);
  if (!record) return std::unexpected(record.error());
  if (!*record) return BackoffState{};
  return (*record)->backoff;
}

Result<void> save_schedule(const StoreWriter& writer, const policy::Action& action, const BackoffState& backoff,
                           TimePoint now, std::optional<RenewalChoice> choice) {
  ScheduleRecord record;
  record.certificate_id = action.certificate.id;
  record.purposes = action.certificate.purposes;
  if (action.renewal_due) record.renew_at = std::chrono::floor<std::chrono::seconds>(*action.renewal_due);
  if (choice) {
    record.selected = choice->selected;
    record.basis = choice->basis;
    record.ari_fetched_at = choice->ari_fetched_at;
  }
  record.decision = std::string(policy::to_string(action.kind)) + ": " + action.reason;
  record.backoff = backoff;
  // A decision the record already holds is not written again: a pass with nothing new to decide
  // writes nothing in the state directory (issue 26), and decided_at stays when it was first made.
  if (auto previous = read_schedule(*writer, record.certificate_id); previous && *previous) {
    record.decided_at = (*previous)->decided_at;
    if (record == **previous) return ok();
  }
  record.decided_at = now;
  return write_schedule(writer, record);
}

}  // namespace certagent::agent
