#pragma once
// The engine's record of each certificate between passes and restarts: its
// failure back-off (agent/store/backoff.hpp) and the plan's last decision, kept in
// the daemon's schedule file <state>/schedule/<certificate-id>.json
// (agent/store/schedule.hpp), which `certagent status` reads.
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "agent/store/backoff.hpp"
#include "agent/store/schedule.hpp"
#include "agent/engine/renewal_decision.hpp"
#include "agent/store/shared.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"
#include "policy/plan.hpp"

namespace certagent::agent {

// The schedule records one pass reads, each file read once (issue 26: the previous draw, the
// back-off and the comparison before a write read each record three times a pass). Of each
// record it keeps only what is asked again — the previous draw, the back-off when it is not the
// default, and a digest of the record for the comparison before a write — not the records
// (kept whole, 10,000 of them cost the daemon 9 MiB). A record written through it is noted.
// For one pass: a record changed behind the pass's back meanwhile is seen at the next pass.
// Thread-safe.
class ScheduleReads {
 public:
  explicit ScheduleReads(const Store& store) : store_(&store) {}

  // There is a record, and it can be read and trusted.
  [[nodiscard]] bool has_record(std::string_view certificate_id);
  // The record's `selected` (nullopt: no record, or none recorded, or unreadable).
  [[nodiscard]] std::optional<TimePoint> selected(std::string_view certificate_id);
  // No file: no back-off. A file the agent did not write is an error.
  [[nodiscard]] Result<BackoffState> backoff(std::string_view certificate_id);
  // Writes `record` unless the file holds it already (decided_at aside: the one on file is kept).
  [[nodiscard]] Result<void> write_if_changed(const StoreWriter& writer, ScheduleRecord record, TimePoint now);

  [[nodiscard]] std::size_t files_read() const;  // tests

 private:
  // A time or none, in 8 bytes (std::optional<TimePoint> takes 16: four of them a record were a
  // third of what the pass kept of it, at 10,000 records: issue 26).
  class Time {
   public:
    Time() = default;
    explicit Time(std::optional<TimePoint> t) : s_(t ? t->time_since_epoch().count() : kNone) {}
    [[nodiscard]] std::optional<TimePoint> get() const {
      if (s_ == kNone) return std::nullopt;
      return TimePoint{std::chrono::seconds{s_}};
    }

   private:
    static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
    std::int64_t s_ = kNone;
  };
  struct Seen {
    Time selected, decided_at;
    // The back-off: most records hold only the last attempt and success, kept here; a fuller
    // one (failures) is kept whole in `backoff`.
    Time last_attempt, last_success;
    std::array<char, 32> digest{};  // record_digest of the record, when has_digest
    bool present = false;           // there is a record, readable
    bool has_digest = false;
    std::unique_ptr<BackoffState> backoff;
    std::unique_ptr<Error> error;  // the file could not be read or trusted
  };
  const Seen& look(std::string_view certificate_id);  // with m_ held
  void note(const ScheduleRecord& record);             // with m_ held

  const Store* store_;
  mutable std::mutex m_;
  std::unordered_map<std::string, Seen> seen_;
  std::size_t reads_ = 0;
};

// No file: no back-off. A file the agent did not write is an error (the
// caller logs it and treats the certificate as not backed off).
[[nodiscard]] Result<BackoffState> load_backoff(const Store& store, std::string_view certificate_id);

// Writes the certificate's schedule: its purposes, when renewal is due (keep /
// renew), the random point drawn for it, the rule that set it and when the ARI
// window it used was fetched (`choice`; absent: not recorded), the plan's
// reason, and the back-off. Needs the writer lock.
// The back-off the engine uses: agent/store/backoff.hpp's defaults, except that
// CERTAGENT_BACKOFF_INITIAL=<seconds> (1..3600) shortens the first step of the
// transient-failure back-off — for tests and demonstrations of recovery, which
// would otherwise wait a minute; a warning says when it is in effect.
[[nodiscard]] BackoffPolicy engine_backoff_policy();

[[nodiscard]] Result<void> save_schedule(const StoreWriter& writer, const policy::Action& action,
                                         const BackoffState& backoff, TimePoint now,
                                         std::optional<RenewalChoice> choice = std::nullopt);
// The same through a pass's reads (the record is not read again for the comparison).
[[nodiscard]] Result<void> save_schedule(ScheduleReads& reads, const StoreWriter& writer, const policy::Action& action,
                                         const BackoffState& backoff, TimePoint now,
                                         std::optional<RenewalChoice> choice = std::nullopt);

}  // namespace certagent::agent
