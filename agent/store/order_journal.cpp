#include "agent/store/order_journal.hpp"

#include <boost/json.hpp>

#include <map>
#include <mutex>

#include "agent/store/fsutil.hpp"
#include "agent/store/journal_mirror.hpp"

namespace certagent::agent {
namespace json = boost::json;

std::filesystem::path order_journal_path(const std::filesystem::path& state_dir, const std::string& certificate_id) {
  return state_dir / "orders" / (certificate_id + ".json");
}

namespace {

std::mutex& mirrors_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::filesystem::path, JournalMirror>& mirrors() {
  static std::map<std::filesystem::path, JournalMirror> m;
  return m;
}
JournalMirror mirror_of(const std::filesystem::path& state_dir) {
  std::lock_guard lock(mirrors_mutex());
  auto it = mirrors().find(state_dir);
  return it == mirrors().end() ? JournalMirror{} : it->second;
}

}  // namespace

Result<void> write_order_journal(const Store& store, const OrderJournal& j) {
  if (auto checked = check_purpose_name(j.certificate_id); !checked)
    return fail(ErrorKind::Invalid, "certificate id \"" + j.certificate_id + "\" cannot name a file");
  auto file = order_journal_path(store.dir(), j.certificate_id);
  {
    // Journals are written without the store's mutex, several at once. Two
    // first journals would both mkdir orders/: the one that finds it made
    // would write its journal while the other may not have fsynced the state
    // directory yet, and a power failure could then lose orders/ and the
    // journal with it after the CA got the order. One at a time, the second
    // finds orders/ made and durable. (A mkdir and an lstat: no fsync waits
    // on this lock unless orders/ is new.)
    static std::mutex creating;
    std::lock_guard lock(creating);
    if (auto dir = fsutil::make_private_dir(file.parent_path()); !dir) return dir;
  }
  if (auto written = fsutil::write_file_atomic(file, order_journal_json(j), 0600); !written) return written;
  if (auto mirror = mirror_of(store.dir()))
    if (auto mirrored = mirror(j); !mirrored) return std::unexpected(mirrored.error().context("mirroring the order journal"));
  return {};
}

void set_journal_mirror(const std::filesystem::path& state_dir, JournalMirror mirror) {
  std::lock_guard lock(mirrors_mutex());
  if (mirror) mirrors()[state_dir] = std::move(mirror);
  else mirrors().erase(state_dir);
}

Result<std::optional<OrderJournal>> read_order_journal(const std::filesystem::path& state_dir,
                                                       const std::string& certificate_id) {
  auto file = order_journal_path(state_dir, certificate_id);
  auto kind = fsutil::entry_kind(file);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == fsutil::EntryKind::Missing) return std::nullopt;
  auto text = fsutil::read_file(file, 256 * 1024);
  if (!text) return std::unexpected(text.error());
  auto j = parse_order_journal(*text, file.string());
  if (!j) return std::unexpected(j.error());
  if (j->certificate_id != certificate_id)
    return fail(ErrorKind::Storage, file.string() + " is not an order journal for " + certificate_id);
  return j;
}

std::string order_journal_json(const OrderJournal& j) {
  json::object o{{"format", 1},
                 {"certificate_id", j.certificate_id},
                 {"order_url", j.order_url},
                 {"names", json::array(j.names.begin(), j.names.end())},
                 {"key", j.key_pem},
                 {"profile", j.profile},
                 {"account_url", j.account_url},
                 {"intent_time", j.intent_time}};
  return json::serialize(o) + "\n";
}

Result<OrderJournal> parse_order_journal(std::string_view text, const std::string& what) {
  try {
    const auto o = json::parse(text).as_object();
    if (o.at("format").as_int64() != 1) return fail(ErrorKind::Storage, what + " is not an order journal (format 1)");
    OrderJournal j{std::string(o.at("certificate_id").as_string()), std::string(o.at("order_url").as_string()), {},
                   std::string(o.at("key").as_string())};
    for (const auto& n : o.at("names").as_array()) j.names.emplace_back(n.as_string());
    j.profile = o.at("profile").as_string();
    j.account_url = o.at("account_url").as_string();
    j.intent_time = o.at("intent_time").as_int64();
    return j;
  } catch (const std::exception& e) {
    return fail(ErrorKind::Storage, what + " is not an order journal certagent wrote: " + e.what());
  }
}

Result<void> remove_order_journal(const Store& store, const std::string& certificate_id) {
  auto file = order_journal_path(store.dir(), certificate_id);
  std::error_code ec;
  std::filesystem::remove(file, ec);
  if (ec) return fail(ErrorKind::Storage, "removing " + file.string() + ": " + ec.message());
  return ok();  // not fsynced here: see the header
}

Result<std::optional<OrderJournal>> read_order_journal(const Store& store, const std::string& certificate_id) {
  return read_order_journal(store.dir(), certificate_id);
}

}  // namespace certagent::agent
