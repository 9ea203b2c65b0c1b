#include "agent/engine/records.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <string>

#include "agent/engine/env_seconds.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/schedule.hpp"
#include "agent/store/verify.hpp"

namespace certagent::agent {

BackoffPolicy engine_backoff_policy() {
  BackoffPolicy policy;
  const std::string effect =
      fmt::format("failed attempts back off from {{}} s, not {} s", policy.initial.count());
  if (auto s = seconds_from_environment("CERTAGENT_BACKOFF_INITIAL", Seconds(1), Seconds(3600), effect))
    policy.initial = *s;
  return policy;
}

namespace {

// The first 128 bits (hex) of the SHA-256 of the record as schedule_to_json writes it.
// nullopt when SHA-256 is not to be had: the record is then written again.
std::optional<std::array<char, 32>> record_digest(const ScheduleRecord& record) {
  const std::string hex = sha256_hex(schedule_to_json(record));
  std::array<char, 32> out{};
  if (hex.size() < out.size()) return std::nullopt;
  std::copy_n(hex.begin(), out.size(), out.begin());
  return out;
}

ScheduleRecord record_of(const policy::Action& action, const BackoffState& backoff, std::optional<RenewalChoice> choice) {
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
  return record;
}

}  // namespace

void ScheduleReads::note(const ScheduleRecord& record) {
  Seen& s = seen_[record.certificate_id];
  s.present = true;
  s.selected = Time(record.selected);
  s.decided_at = Time(record.decided_at);
  const auto digest = record_digest(record);
  s.has_digest = digest.has_value();
  s.digest = digest.value_or(std::array<char, 32>{});
  BackoffState plain;
  plain.last_attempt = record.backoff.last_attempt;
  plain.last_success = record.backoff.last_success;
  s.last_attempt = Time(plain.last_attempt);
  s.last_success = Time(plain.last_success);
  s.backoff = record.backoff == plain ? nullptr : std::make_unique<BackoffState>(record.backoff);
  s.error.reset();
}

const ScheduleReads::Seen& ScheduleReads::look(std::string_view certificate_id) {
  if (auto it = seen_.find(std::string(certificate_id)); it != seen_.end()) return it->second;
  ++reads_;
  auto record = read_schedule(*store_, certificate_id);
  if (record && *record) {
    note(**record);
    return seen_.at(std::string(certificate_id));
  }
  Seen& s = seen_[std::string(certificate_id)];
  if (!record) s.error = std::make_unique<Error>(record.error());
  return s;
}

bool ScheduleReads::has_record(std::string_view certificate_id) {
  std::lock_guard lock(m_);
  return look(certificate_id).present;
}

std::optional<TimePoint> ScheduleReads::selected(std::string_view certificate_id) {
  std::lock_guard lock(m_);
  return look(certificate_id).selected.get();
}

Result<BackoffState> ScheduleReads::backoff(std::string_view certificate_id) {
  std::lock_guard lock(m_);
  const Seen& s = look(certificate_id);
  if (s.error) return std::unexpected(*s.error);
  if (s.backoff) return *s.backoff;
  BackoffState plain;
  plain.last_attempt = s.last_attempt.get();
  plain.last_success = s.last_success.get();
  return plain;
}

Result<void> ScheduleReads::write_if_changed(const StoreWriter& writer, ScheduleRecord record, TimePoint now) {
  std::lock_guard lock(m_);
  // A decision the record already holds is not written again: a pass with nothing new to decide
  // writes nothing in the state directory (issue 26), and decided_at stays when it was first made.
  if (const Seen& previous = look(record.certificate_id); previous.present) {
    record.decided_at = previous.decided_at.get();
    if (const auto digest = record_digest(record); digest && previous.has_digest && *digest == previous.digest)
      return ok();
  }
  record.decided_at = now;
  if (auto w = write_schedule(writer, record); !w) return w;
  note(record);
  return ok();
}

std::size_t ScheduleReads::files_read() const {
  std::lock_guard lock(m_);
  return reads_;
}

Result<BackoffState> load_backoff(const Store& store, std::string_view certificate_id) {
  return ScheduleReads(store).backoff(certificate_id);
}

Result<void> save_schedule(const StoreWriter& writer, const policy::Action& action, const BackoffState& backoff,
                           TimePoint now, std::optional<RenewalChoice> choice) {
  ScheduleReads reads(*writer);
  return save_schedule(reads, writer, action, backoff, now, choice);
}

Result<void> save_schedule(ScheduleReads& reads, const StoreWriter& writer, const policy::Action& action,
                           const BackoffState& backoff, TimePoint now, std::optional<RenewalChoice> choice) {
  return reads.write_if_changed(writer, record_of(action, backoff, choice), now);
}

}  // namespace certagent::agent
