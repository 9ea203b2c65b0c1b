#pragma once
// The per-certificate schedule in the state directory: the last renewal decision and the
// failure back-off, one file per certificate id, so that a restart neither re-rolls the random
// renewal point nor resets a back-off, and `certagent status` can show both.
//
//   <state>/schedule/                       0700
//   <state>/schedule/<certificate-id>.json  0644, written atomically (fsutil::write_file_atomic)
//
// {"format":1,"certificate_id":"front-end","purposes":["Default","WebServicesInternal"],
//  "renew_at":1748736420,"selected":1748736420,"ari_recheck_at":null,
//  "renewal_basis":"ari-window","ari_fetched_at":1746133200,
//  "decision":"wait until ...","decided_at":1746144000,"backoff":{...backoff.hpp's to_json...}}
//
// Times are whole seconds since 1970 (UTC) or null. `renewal_basis` is the rule that set
// renew_at (renewal.hpp's to_string(RenewalBasis)) and `ari_fetched_at` when the CA's ARI window
// that decision looked at was fetched; either may be null (no renewal decision behind the
// record — a certificate not issued yet —, or no window). The record written right after an
// attempt carries the decision the attempt was planned with. Only the writer (holding the state
// lock) writes; readers take no lock.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/backoff.hpp"
#include "policy/renewal.hpp"
#include "common/time.hpp"
#include "agent/store/shared.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

// The rule that set a renewal time (policy/renewal.hpp), as the schedule records it.
using policy::RenewalBasis;

struct ScheduleRecord {
  std::string certificate_id;
  std::vector<std::string> purposes;           // what the policy binds it to, as of the decision
  std::optional<TimePoint> renew_at;           // RenewalDecision::renew_at; absent: not issued yet
  std::optional<TimePoint> selected;           // RenewalDecision::selected (previous_selection next time)
  std::optional<TimePoint> ari_recheck_at;     // RenewalDecision::ari_recheck_at
  std::optional<RenewalBasis> basis;           // RenewalDecision::basis; absent: not recorded (or version 1)
  std::optional<TimePoint> ari_fetched_at;     // when the ARI window the decision looked at was fetched
  std::string decision;                        // RenewalDecision::reason, or why it is being issued
  std::optional<TimePoint> decided_at;          // when this decision was first made (rewritten only when it changes)
  BackoffState backoff;

  friend bool operator==(const ScheduleRecord&, const ScheduleRecord&) = default;
};

// When the certificate is next worked on: the renewal time, pushed back by the back-off;
// absent when neither says.
[[nodiscard]] std::optional<TimePoint> next_attempt_time(const ScheduleRecord& record);

// Certificate ids name files: 1-64 of [A-Za-z0-9._-], not starting with '.'.
[[nodiscard]] Result<void> check_certificate_id(std::string_view id);
[[nodiscard]] std::filesystem::path schedule_dir(const std::filesystem::path& state_dir);
[[nodiscard]] std::filesystem::path schedule_path(const std::filesystem::path& state_dir, std::string_view id);

[[nodiscard]] std::string schedule_to_json(const ScheduleRecord& record);
// Strict: anything schedule_to_json did not write is refused (Storage) with the reason.
[[nodiscard]] Result<ScheduleRecord> schedule_from_json(std::string_view text);

// Needs a writable store (the writer lock) and its writer's mutex (agent/store/shared.hpp).
[[nodiscard]] Result<void> write_schedule(const StoreWriter& store, const ScheduleRecord& record);
[[nodiscard]] Result<void> remove_schedule(const StoreWriter& store, std::string_view id);
// Absent when there is no file; Storage error when it cannot be read or trusted.
[[nodiscard]] Result<std::optional<ScheduleRecord>> read_schedule(const std::filesystem::path& state_dir,
                                                                  std::string_view id);
[[nodiscard]] Result<std::optional<ScheduleRecord>> read_schedule(const Store& store, std::string_view id);

struct ScheduleList {
  std::vector<ScheduleRecord> records;  // sorted by certificate id
  std::vector<Problem> problems;        // files skipped, with why
};
[[nodiscard]] Result<ScheduleList> list_schedules(const std::filesystem::path& state_dir);
[[nodiscard]] Result<ScheduleList> list_schedules(const Store& store);

}  // namespace certagent::agent
