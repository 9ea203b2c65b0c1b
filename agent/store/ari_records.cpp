#include "agent/store/ari_records.hpp"

#include <boost/json.hpp>

#include <system_error>

#include "agent/store/fsutil.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::size_t kRecordCap = 16 * 1024;
constexpr std::int64_t kFormat = 1;

fs::path ari_dir(const Store& store) { return store.dir() / "ari"; }

bool is_thumbprint(std::string_view t) {
  if (t.size() != 40) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

std::int64_t seconds_of(TimePoint t) { return t.time_since_epoch().count(); }

Result<json::object> read_object(const fs::path& file, bool& absent) {
  std::error_code ec;
  absent = !fs::exists(fs::symlink_status(file, ec));
  if (absent) return json::object{};
  auto text = fsutil::read_file(file, kRecordCap);
  if (!text) return std::unexpected(text.error());
  boost::system::error_code jec;
  json::value v = json::parse(*text, jec);
  const json::value* format = v.is_object() ? v.as_object().if_contains("format") : nullptr;
  if (jec || format == nullptr || !format->is_int64() || format->as_int64() != kFormat)
    return fail(ErrorKind::Storage, file.string() + " is not a record certagent wrote");
  return v.as_object();
}

Result<std::string> string_at(const json::object& o, std::string_view key, const fs::path& file) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return fail(ErrorKind::Storage, file.string() + ": no string \"" + std::string(key) + "\"");
  return std::string(v->as_string());
}

Result<TimePoint> time_at(const json::object& o, std::string_view key, const fs::path& file) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_int64()) return fail(ErrorKind::Storage, file.string() + ": no time \"" + std::string(key) + "\"");
  return TimePoint(Seconds(v->as_int64()));
}

Result<void> write_object(const Store& store, const fs::path& file, json::object o) {
  o["format"] = kFormat;
  if (auto made = fsutil::make_private_dir(ari_dir(store)); !made) return made;
  return fsutil::write_file_atomic(file, json::serialize(o) + "\n", 0644);
}

Result<void> check_thumbprint(std::string_view thumbprint) {
  if (!is_thumbprint(thumbprint)) return fail(ErrorKind::Invalid, "'" + std::string(thumbprint) + "' is not a thumbprint");
  return ok();
}

}  // namespace

fs::path ca_directory_note_path(const Store& store) { return ari_dir(store) / "ca.json"; }

fs::path ari_record_path(const Store& store, std::string_view thumbprint) {
  return ari_dir(store) / (std::string(thumbprint) + ".json");
}

Result<std::optional<CaDirectoryNote>> read_ca_directory_note(const Store& store) {
  const fs::path file = ca_directory_note_path(store);
  bool absent = false;
  auto o = read_object(file, absent);
  if (!o) return std::unexpected(o.error());
  if (absent) return std::nullopt;
  auto dir = string_at(*o, "directory", file);
  auto url = string_at(*o, "renewal_info", file);
  auto at = time_at(*o, "checked_at", file);
  if (!dir || !url || !at) return std::unexpected(!dir ? dir.error() : !url ? url.error() : at.error());
  return CaDirectoryNote{*dir, *url, *at};
}

Result<void> note_ca_directory(const StoreWriter& writer, const CaDirectoryNote& note) {
  const Store& store = *writer;
  // Every order of a pass notes the directory the pass fetched once: rewriting the same note
  // (a file and a directory fsync) per order only moved checked_at by seconds. An unchanged
  // note younger than kCaNoteRewrite stands.
  if (auto known = read_ca_directory_note(store); known && *known) {
    const auto& k = **known;
    if (k.directory_url == note.directory_url && k.renewal_info == note.renewal_info && note.checked_at >= k.checked_at &&
        note.checked_at - k.checked_at < kCaNoteRewrite)
      return ok();
  }
  return write_object(store, ca_directory_note_path(store),
                      json::object{{"directory", note.directory_url}, {"renewal_info", note.renewal_info},
                                   {"checked_at", seconds_of(note.checked_at)}});
}

Result<std::optional<AriRecord>> read_ari_record(const Store& store, std::string_view thumbprint) {
  if (auto c = check_thumbprint(thumbprint); !c) return std::unexpected(c.error());
  const fs::path file = ari_record_path(store, thumbprint);
  bool absent = false;
  auto o = read_object(file, absent);
  if (!o) return std::unexpected(o.error());
  if (absent) return std::nullopt;
  auto id = string_at(*o, "cert_id", file);
  if (!id) return std::unexpected(id.error());
  AriRecord r{*id, {}, {}, {}, {}};
  for (auto [key, field] : {std::pair{"start", &r.start}, std::pair{"end", &r.end}, std::pair{"recheck_at", &r.recheck_at},
                            std::pair{"fetched_at", &r.fetched_at}}) {
    auto t = time_at(*o, key, file);
    if (!t) return std::unexpected(t.error());
    *field = *t;
  }
  return r;
}

Result<void> write_ari_record(const StoreWriter& writer, std::string_view thumbprint, const AriRecord& r) {
  const Store& store = *writer;
  if (auto c = check_thumbprint(thumbprint); !c) return std::unexpected(c.error());
  return write_object(store, ari_record_path(store, thumbprint),
                      json::object{{"cert_id", r.cert_id}, {"start", seconds_of(r.start)}, {"end", seconds_of(r.end)},
                                   {"recheck_at", seconds_of(r.recheck_at)}, {"fetched_at", seconds_of(r.fetched_at)}});
}

}  // namespace certagent::agent
