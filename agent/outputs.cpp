#include "agent/outputs.hpp"

#include <grp.h>
#include <pwd.h>

#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "agent/fsutil.hpp"

namespace certagent::agent {
namespace {

template <class Id>
std::optional<Id> numeric(std::string_view s) {
  unsigned long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return static_cast<Id>(v);
}

Result<std::optional<uid_t>> resolve_user(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (auto n = numeric<uid_t>(name)) return n;
  struct passwd pw {}, *found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found)
    return fail(ErrorKind::Invalid, fmt::format("no user named \"{}\"", name));
  return found->pw_uid;
}

Result<std::optional<gid_t>> resolve_group(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (auto n = numeric<gid_t>(name)) return n;
  struct group gr {}, *found = nullptr;
  std::vector<char> buf(16384);
  if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found)
    return fail(ErrorKind::Invalid, fmt::format("no group named \"{}\"", name));
  return found->gr_gid;
}

}  // namespace

Result<void> write_output(const StoredVersion& version, const OutputSpec& spec) {
  const std::string what = fmt::format("writing {} from version {}", spec.path.string(), version.id);
  if (!spec.path.is_absolute()) return fail(ErrorKind::Invalid, what + ": the path is not absolute");
  auto uid = resolve_user(spec.owner);
  if (!uid) return std::unexpected(uid.error().context(what));
  auto gid = resolve_group(spec.group);
  if (!gid) return std::unexpected(gid.error().context(what));
  auto fullchain = fsutil::read_file(version.dir / "fullchain.pem");
  if (!fullchain) return std::unexpected(fullchain.error().context(what));
  auto key = fsutil::read_file(version.dir / "privkey.pem");
  if (!key) return std::unexpected(key.error().context(what));
  std::string data = *fullchain + *key;
  if (auto r = fsutil::write_file_atomic(spec.path, data, spec.mode, {*uid, *gid}); !r)
    return std::unexpected(r.error().context(what));
  return ok();
}

}  // namespace certagent::agent
