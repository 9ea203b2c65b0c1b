#include "agent/engine/records.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "agent/store/logging.hpp"
#include "agent/store/schedule.hpp"

namespace certagent::agent {

BackoffPolicy engine_backoff_policy() {
  BackoffPolicy policy;
  const char* text = std::getenv("CERTAGENT_BACKOFF_INITIAL");
  if (text == nullptr || *text == '\0') return policy;
  long seconds = 0;
  const char* end = text + std::strlen(text);
  auto [at, ec] = std::from_chars(text, end, seconds);
  if (ec != std::errc{} || at != end || seconds < 1 || seconds > 3600) {
    module_logger("engine")->warn("ignoring CERTAGENT_BACKOFF_INITIAL={}: not a number of seconds in 1..3600", text);
    return policy;
  }
  static std::once_flag said;
  std::call_once(said, [&] {
    module_logger("engine")->warn("CERTAGENT_BACKOFF_INITIAL: failed attempts back off from {} s, not {} s", seconds,
                                  policy.initial.count());
  });
  policy.initial = Seconds(seconds);
  return policy;
}

Result<BackoffState> load_backoff(const Store& store, std::string_view certificate_id) {
  auto record = read_schedule(store, certificate_id);
  if (!record) return std::unexpected(record.error());
  if (!*record) return BackoffState{};
  return (*record)->backoff;
}

Result<void> save_schedule(const Store& store, const policy::Action& action, const BackoffState& backoff,
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
  record.decided_at = now;
  record.backoff = backoff;
  return write_schedule(store, record);
}

}  // namespace certagent::agent
