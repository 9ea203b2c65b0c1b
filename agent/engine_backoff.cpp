#include "agent/engine_backoff.hpp"

#include "agent/schedule_store.hpp"

namespace certagent::agent {

Result<BackoffState> load_backoff(const std::filesystem::path& state_dir, std::string_view certificate_id) {
  auto record = read_schedule(state_dir, certificate_id);
  if (!record) return std::unexpected(record.error());
  if (!*record) return BackoffState{};
  return (*record)->backoff;
}

Result<void> save_schedule(const Store& store, const policy::Action& action, const BackoffState& backoff,
                           TimePoint now) {
  ScheduleRecord record;
  record.certificate_id = action.certificate.id;
  record.purposes = action.certificate.purposes;
  if (action.renewal_due) record.renew_at = std::chrono::floor<std::chrono::seconds>(*action.renewal_due);
  record.decision = std::string(policy::to_string(action.kind)) + ": " + action.reason;
  record.decided_at = now;
  record.backoff = backoff;
  return write_schedule(store, record);
}

}  // namespace certagent::agent
