#include "agent/store/store.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/store/fsutil.hpp"
#include "agent/store/verify.hpp"
#include "common/text.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

constexpr std::size_t kAccountJsonCap = 64 * 1024;

Result<void> open_subdirs(const fs::path& dir) {
  for (const char* sub : {"accounts", "certs", "live"}) {
    if (auto r = fsutil::make_private_dir(dir / sub); !r) return r;
    if (auto r = fsutil::check_private_dir(dir / sub); !r) return r;
  }
  return ok();
}

Result<Account> parse_account(std::string_view text, std::string_view directory_url) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return fail(ErrorKind::Invalid, "account.json is not a JSON object");
  const auto& o = v.as_object();
  auto str = [&](std::string_view k) -> const json::string* {
    auto* x = o.if_contains(k);
    return x && x->is_string() ? &x->as_string() : nullptr;
  };
  const auto* dir = str("directory");
  const auto* url = str("account_url");
  const auto* contacts = o.if_contains("contacts");
  if (!dir || !url || !contacts || !contacts->is_array())
    return fail(ErrorKind::Invalid, "account.json lacks \"directory\", \"account_url\" or \"contacts\"");
  if (*dir != directory_url)
    return fail(ErrorKind::Invalid, "account.json belongs to another directory URL");
  Account a{std::string(*dir), std::string(*url), {}, {}, false};
  if (const auto* unusable = o.if_contains("orders_list_unusable"); unusable && unusable->is_bool())
    a.orders_list_unusable = unusable->as_bool();
  for (const auto& c : contacts->as_array()) {
    if (!c.is_string()) return fail(ErrorKind::Invalid, "account.json has a contact that is not a string");
    a.contacts.emplace_back(c.as_string());
  }
  return a;
}

}  // namespace

Result<Store> Store::open(const fs::path& state_dir, const OpenOptions& options) {
  const std::string where = "opening the state directory " + state_dir.string();
  if (!options.write) {
    auto kind = fsutil::entry_kind(state_dir);
    if (!kind) return std::unexpected(kind.error().context(where));
    if (*kind == fsutil::EntryKind::Missing)
      return fail(ErrorKind::Storage, where + ": it does not exist (nothing has been stored yet)");
    if (auto r = fsutil::check_private_dir(state_dir, false); !r) return std::unexpected(r.error().context(where));
    return Store(state_dir, std::nullopt);
  }
  if (auto r = fsutil::make_private_dir(state_dir); !r) return std::unexpected(r.error().context(where));
  if (auto r = fsutil::check_private_dir(state_dir); !r) return std::unexpected(r.error().context(where));
  auto lock = StateLock::acquire(state_dir, options.lock_wait);
  if (!lock) return std::unexpected(lock.error());
  if (auto r = open_subdirs(state_dir); !r) return std::unexpected(r.error().context(where));
  return Store(state_dir, std::move(*lock));
}

Result<void> Store::take_writer_lock(std::chrono::milliseconds wait, const std::atomic<bool>* cancel) {
  if (lock_) return ok();
  auto lock = StateLock::acquire(dir_, wait, cancel);
  if (!lock) return std::unexpected(lock.error());
  lock_ = std::move(*lock);
  return ok();
}

Result<void> Store::require_writable(std::string_view what) const {
  if (writable()) return ok();
  return fail(ErrorKind::Storage, fmt::format("{}: the state directory {} was opened read-only", what, dir_.string()));
}

fs::path Store::live_path(std::string_view purpose) const { return dir_ / "live" / std::string(purpose); }

Result<void> Store::save_account(const Account& account) {
  const std::string what = "saving the account for " + account.directory_url;
  if (auto r = require_writable(what); !r) return r;
  if (account.directory_url.empty()) return fail(ErrorKind::Invalid, what + ": the directory URL is empty");
  fs::path dir = dir_ / "accounts" / account_dir_name(account.directory_url);
  if (auto r = fsutil::make_private_dir(dir); !r) return std::unexpected(r.error().context(what));
  if (auto r = fsutil::write_file_atomic(dir / "account.key", account.key_pem, 0600); !r)
    return std::unexpected(r.error().context(what));
  json::array contacts;
  for (const auto& c : account.contacts) contacts.emplace_back(c);
  json::object o{{"format", 1},
                 {"directory", account.directory_url},
                 {"account_url", account.account_url},
                 {"contacts", std::move(contacts)}};
  if (account.orders_list_unusable) o["orders_list_unusable"] = true;
  if (auto r = fsutil::write_file_atomic(dir / "account.json", json::serialize(o) + "\n", 0600); !r)
    return std::unexpected(r.error().context(what));
  return ok();
}

Result<void> Store::retire_account(const Account& account, std::int64_t unix_time) {
  const std::string what = "keeping the replaced account " + account.account_url;
  if (auto r = require_writable(what); !r) return r;
  fs::path dir = dir_ / "accounts" / account_dir_name(account.directory_url);
  const std::string stem = fmt::format("retired-{}", unix_time);
  if (auto r = fsutil::write_file_atomic(dir / (stem + ".key"), account.key_pem, 0600); !r)
    return std::unexpected(r.error().context(what));
  json::object o{{"directory", account.directory_url}, {"account_url", account.account_url}};
  if (auto r = fsutil::write_file_atomic(dir / (stem + ".json"), json::serialize(o) + "\n", 0600); !r)
    return std::unexpected(r.error().context(what));
  return ok();
}

Result<std::optional<Account>> Store::load_account(std::string_view directory_url) const {
  const std::string what = fmt::format("loading the account for {}", directory_url);
  fs::path dir = dir_ / "accounts" / account_dir_name(directory_url);
  auto key = fsutil::read_file(dir / "account.key", kAccountJsonCap);
  if (!key) {
    auto kind = fsutil::entry_kind(dir / "account.key");
    if (kind && *kind == fsutil::EntryKind::Missing) return std::nullopt;
    return std::unexpected(key.error().context(what));
  }
  auto kind = fsutil::entry_kind(dir / "account.json");
  if (kind && *kind == fsutil::EntryKind::Missing)  // key saved, registration not yet recorded
    return Account{std::string(directory_url), {}, {}, std::move(*key), false};
  auto text = fsutil::read_file(dir / "account.json", kAccountJsonCap);
  if (!text) return std::unexpected(text.error().context(what));
  auto account = parse_account(*text, directory_url);
  if (!account) return std::unexpected(account.error().context(what + " from " + (dir / "account.json").string()));
  account->key_pem = std::move(*key);
  return account;
}

Result<void> check_purpose_name(std::string_view p) {
  bool good = !p.empty() && p.size() <= 64 && p.front() != '.';
  for (char c : p)
    good = good && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (good) return ok();
  return fail(ErrorKind::Invalid,
              "a purpose name has 1 to 64 letters, digits, '.', '_' or '-' and does not start with '.'");
}

std::string make_version_id(std::chrono::sys_seconds not_before, std::string_view sha256) {
  std::string stamp = format_rfc3339(not_before);  // 2025-03-01T12:00:00Z
  std::string compact;
  for (char c : stamp)
    if (c != '-' && c != ':') compact.push_back(c);
  return compact + "-" + ascii_lower(sha256.substr(0, 16));
}

bool is_version_id(std::string_view s) {
  // YYYYMMDDTHHMMSSZ-xxxxxxxxxxxxxxxx
  if (s.size() != 16 + 1 + 16 || s[8] != 'T' || s[15] != 'Z' || s[16] != '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 15 || i == 16) continue;
    char c = s[i];
    bool ok = i < 16 ? (c >= '0' && c <= '9') : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok) return false;
  }
  return true;
}

std::string account_dir_name(std::string_view directory_url) {
  return ascii_lower(sha256_hex(directory_url).substr(0, 32));
}

std::vector<fs::path> Store::pass_sync_dirs() const {
  std::vector<fs::path> out;
  for (const char* dir : {"orders", "notify", "live"})
    if (std::error_code ec; fs::is_directory(dir_ / dir, ec)) out.push_back(dir_ / dir);
  return out;
}

}  // namespace certagent::agent
