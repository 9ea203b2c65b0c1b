#include "agent/store/schedule.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <span>
#include <system_error>

#include "agent/store/fsutil.hpp"

namespace certagent::agent {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::int64_t kFormat = 1;
constexpr std::int64_t kLatest = 253402300799;  // 9999-12-31T23:59:59Z
constexpr std::size_t kMaxText = 4096;
constexpr std::size_t kMaxPurposes = 64;
constexpr std::array<std::string_view, 11> kKeys = {"format",     "certificate_id", "purposes",      "renew_at",
                                                    "selected",   "ari_recheck_at", "decision",      "decided_at",
                                                    "backoff",    "renewal_basis",  "ari_fetched_at"};
constexpr std::array<RenewalBasis, 5> kBases = {RenewalBasis::Expired, RenewalBasis::NearExpiry, RenewalBasis::AriWindow,
                                                RenewalBasis::RenewBefore, RenewalBasis::Lifetime};

std::unexpected<Error> corrupt(const std::string& what) {
  return fail(ErrorKind::Storage, "reading the schedule: " + what);
}

json::value time_value(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return t->time_since_epoch().count();
}

Result<std::optional<TimePoint>> time_field(const json::object& o, std::string_view key) {
  const json::value& v = o.at(key);
  if (v.is_null()) return std::optional<TimePoint>{};
  if (!v.is_int64() || v.get_int64() < 1 || v.get_int64() > kLatest)
    return corrupt(fmt::format("\"{}\" is not a time (whole seconds since 1970, up to 9999)", key));
  return std::optional<TimePoint>{TimePoint{Seconds{v.get_int64()}}};
}

Result<std::string> text_field(const json::object& o, std::string_view key) {
  const json::value& v = o.at(key);
  if (!v.is_string()) return corrupt(fmt::format("\"{}\" is not a string", key));
  if (v.get_string().size() > kMaxText) return corrupt(fmt::format("\"{}\" is longer than {} bytes", key, kMaxText));
  return std::string(v.get_string());
}

Result<std::vector<std::string>> purposes_field(const json::object& o) {
  const json::value& v = o.at("purposes");
  if (!v.is_array() || v.get_array().size() > kMaxPurposes)
    return corrupt(fmt::format("\"purposes\" is not an array of at most {} purpose names", kMaxPurposes));
  std::vector<std::string> out;
  for (const json::value& p : v.get_array()) {
    if (!p.is_string() || !check_purpose_name(p.get_string()))
      return corrupt("\"purposes\" holds something that is not a purpose name");
    out.emplace_back(p.get_string());
  }
  return out;
}

// The format, and that the keys are exactly its keys.
Result<void> check_keys(const json::object& o) {
  const json::value* format = o.if_contains("format");
  if (format == nullptr || !format->is_int64() || format->get_int64() != kFormat)
    return corrupt(fmt::format("\"format\" is not {}", kFormat));
  for (const auto& kv : o)
    if (std::find(kKeys.begin(), kKeys.end(), std::string_view(kv.key())) == kKeys.end())
      return corrupt(fmt::format("unknown key \"{}\"", std::string_view(kv.key())));
  for (auto k : kKeys)
    if (!o.contains(k)) return corrupt(fmt::format("missing key \"{}\"", k));
  return ok();
}

Result<std::optional<RenewalBasis>> basis_field(const json::object& o) {
  const json::value& v = o.at("renewal_basis");
  if (v.is_null()) return std::optional<RenewalBasis>{};
  for (RenewalBasis b : kBases)
    if (v.is_string() && v.get_string() == to_string(b)) return std::optional<RenewalBasis>{b};
  return corrupt("\"renewal_basis\" is not one of expired, near-expiry, ari-window, renew-before, lifetime");
}

Result<void> basis_fields(const json::object& o, ScheduleRecord& r) {
  auto basis = basis_field(o);
  if (!basis) return std::unexpected(basis.error());
  auto fetched = time_field(o, "ari_fetched_at");
  if (!fetched) return std::unexpected(fetched.error());
  r.basis = *basis;
  r.ari_fetched_at = *fetched;
  return ok();
}

Result<ScheduleRecord> fields(const json::object& o) {
  ScheduleRecord r;
  auto id = text_field(o, "certificate_id");
  if (!id) return std::unexpected(id.error());
  if (auto c = check_certificate_id(*id); !c) return corrupt(c.error().message);
  r.certificate_id = std::move(*id);
  auto purposes = purposes_field(o);
  if (!purposes) return std::unexpected(purposes.error());
  r.purposes = std::move(*purposes);
  for (auto [key, field] : {std::pair{"renew_at", &r.renew_at}, std::pair{"selected", &r.selected},
                            std::pair{"ari_recheck_at", &r.ari_recheck_at}, std::pair{"decided_at", &r.decided_at}}) {
    auto t = time_field(o, key);
    if (!t) return std::unexpected(t.error());
    *field = *t;
  }
  auto decision = text_field(o, "decision");
  if (!decision) return std::unexpected(decision.error());
  r.decision = std::move(*decision);
  auto backoff = backoff_state_from_json(o.at("backoff"));
  if (!backoff) return corrupt(backoff.error().message);
  r.backoff = std::move(*backoff);
  if (auto b = basis_fields(o, r); !b) return std::unexpected(b.error());
  return r;
}

}  // namespace

std::optional<TimePoint> next_attempt_time(const ScheduleRecord& record) {
  if (record.renew_at) return earliest_attempt(record.backoff, *record.renew_at);
  return record.backoff.next_attempt;
}

Result<void> check_certificate_id(std::string_view id) {
  const bool ok_chars = std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
  if (id.empty() || id.size() > 64 || id.front() == '.' || !ok_chars)
    return fail(ErrorKind::Invalid, fmt::format("certificate id \"{}\" cannot name a file: use 1-64 of A-Z a-z 0-9 . _ - "
                                                "and do not start with '.'", id.substr(0, 80)));
  return ok();
}

fs::path schedule_dir(const fs::path& state_dir) { return state_dir / "schedule"; }

fs::path schedule_path(const fs::path& state_dir, std::string_view id) {
  return schedule_dir(state_dir) / (std::string(id) + ".json");
}

std::string schedule_to_json(const ScheduleRecord& r) {
  json::object o;
  o["format"] = kFormat;
  o["certificate_id"] = r.certificate_id;
  json::array purposes;
  for (const auto& p : r.purposes) purposes.emplace_back(p);
  o["purposes"] = std::move(purposes);
  o["renew_at"] = time_value(r.renew_at);
  o["selected"] = time_value(r.selected);
  o["ari_recheck_at"] = time_value(r.ari_recheck_at);
  o["renewal_basis"] = r.basis ? json::value(to_string(*r.basis)) : json::value(nullptr);
  o["ari_fetched_at"] = time_value(r.ari_fetched_at);
  o["decision"] = r.decision.substr(0, kMaxText);
  o["decided_at"] = time_value(r.decided_at);
  o["backoff"] = to_json(r.backoff);
  return json::serialize(o) + "\n";
}

Result<ScheduleRecord> schedule_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return corrupt(fmt::format("not valid JSON: {}", ec.message()));
  if (!v.is_object()) return corrupt("the document is not a JSON object");
  if (auto k = check_keys(v.get_object()); !k) return std::unexpected(k.error());
  return fields(v.get_object());
}

Result<void> write_schedule(const StoreWriter& writer, const ScheduleRecord& record) {
  const Store& store = *writer;
  const auto what = [&] { return fmt::format("writing the schedule of certificate \"{}\"", record.certificate_id); };
  if (!store.writable()) return fail(ErrorKind::Storage, what() + ": the store was opened read-only");
  if (auto c = check_certificate_id(record.certificate_id); !c) return std::unexpected(c.error().context(what()));
  if (auto d = fsutil::make_private_dir(schedule_dir(store.dir())); !d) return std::unexpected(d.error().context(what()));
  auto w = fsutil::write_file_atomic(schedule_path(store.dir(), record.certificate_id), schedule_to_json(record), 0644);
  if (!w) return std::unexpected(w.error().context(what()));
  return ok();
}

Result<void> remove_schedule(const StoreWriter& writer, std::string_view id) {
  const Store& store = *writer;
  const auto what = fmt::format("removing the schedule of certificate \"{}\"", id);
  if (!store.writable()) return fail(ErrorKind::Storage, what + ": the store was opened read-only");
  if (auto c = check_certificate_id(id); !c) return std::unexpected(c.error().context(what));
  std::error_code ec;
  fs::remove(schedule_path(store.dir(), id), ec);
  if (ec) return fail(ErrorKind::Storage, fmt::format("{}: {}", what, ec.message()));
  if (auto s = fsutil::fsync_dir(schedule_dir(store.dir())); !s && fs::exists(schedule_dir(store.dir())))
    return std::unexpected(s.error().context(what));
  return ok();
}

Result<std::optional<ScheduleRecord>> read_schedule(const fs::path& state_dir, std::string_view id) {
  const auto what = [&] { return fmt::format("reading the schedule of certificate \"{}\"", id); };
  if (auto c = check_certificate_id(id); !c) return std::unexpected(c.error().context(what()));
  const fs::path path = schedule_path(state_dir, id);
  auto kind = fsutil::entry_kind(path);
  if (!kind) return std::unexpected(kind.error().context(what()));
  if (*kind == fsutil::EntryKind::Missing) return std::optional<ScheduleRecord>{};
  auto text = fsutil::read_file(path, 64 * 1024);
  if (!text) return std::unexpected(text.error().context(what()));
  auto record = schedule_from_json(*text);
  if (!record) return std::unexpected(record.error().context(fmt::format("{} ({})", what(), path.string())));
  if (record->certificate_id != id)
    return fail(ErrorKind::Storage, fmt::format("{}: {} names certificate \"{}\"", what(), path.string(),
                                                record->certificate_id));
  return std::optional<ScheduleRecord>{std::move(*record)};
}

Result<ScheduleList> list_schedules(const fs::path& state_dir) {
  ScheduleList list;
  const fs::path dir = schedule_dir(state_dir);
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return list;
  if (ec) return fail(ErrorKind::Storage, fmt::format("listing {}: {}", dir.string(), ec.message()));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return fail(ErrorKind::Storage, fmt::format("listing {}: {}", dir.string(), ec.message()));
    const fs::path path = it->path();
    const std::string name = path.filename().string();
    if (fsutil::is_temp_name(name)) {
      list.problems.push_back({path, "left over from an interrupted write; ignored"});
      continue;
    }
    if (path.extension() != ".json" || !check_certificate_id(path.stem().string())) {
      list.problems.push_back({path, "not a schedule file certagent made; ignored"});
      continue;
    }
    auto record = read_schedule(state_dir, path.stem().string());
    if (!record) list.problems.push_back({path, record.error().message + "; ignored"});
    else if (*record) list.records.push_back(std::move(**record));
  }
  std::sort(list.records.begin(), list.records.end(),
            [](const auto& a, const auto& b) { return a.certificate_id < b.certificate_id; });
  return list;
}

Result<std::optional<ScheduleRecord>> read_schedule(const Store& store, std::string_view id) {
  return read_schedule(store.dir(), id);
}

Result<ScheduleList> list_schedules(const Store& store) { return list_schedules(store.dir()); }

}  // namespace certagent::agent
