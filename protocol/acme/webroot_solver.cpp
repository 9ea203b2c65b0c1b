#include "protocol/acme/webroot_solver.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "common/escape.hpp"
#include "common/unique_fd.hpp"
#include "protocol/acme/challenge_check.hpp"

namespace certagent::protocol {
namespace {

constexpr const char* kWellKnown = ".well-known";
constexpr const char* kAcmeChallenge = "acme-challenge";

Error storage_error(const std::string& what, int err) {
  std::string why = std::strerror(err);
  if (err == ELOOP || err == ENOTDIR) why = "it is a symlink or not a directory; refusing to follow it";
  return Error(ErrorKind::Storage, what + ": " + why);
}

// Opens `name` below `parent` as a directory without following a symlink.
// Missing: created (0755) when `create` is set, else an empty UniqueFd.
Result<UniqueFd> open_dir(int parent, const char* name, bool create, const std::string& shown, bool& created) {
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(::openat(parent, name, kFlags));
  if (!fd && errno == ENOENT && !create) return UniqueFd();
  if (!fd && errno == ENOENT) {
    const bool made = ::mkdirat(parent, name, 0755) == 0;
    if (!made && errno != EEXIST) return std::unexpected(storage_error("cannot create " + shown, errno));
    created = created || made;
    fd = UniqueFd(::openat(parent, name, kFlags));
    if (fd && made && ::fchmod(fd.get(), 0755) != 0) return std::unexpected(storage_error("cannot set the mode of " + shown, errno));
  }
  if (!fd) return std::unexpected(storage_error("cannot open " + shown, errno));
  return fd;
}

Result<void> write_all(int fd, std::string_view data, const std::string& shown) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(storage_error("cannot write " + shown, errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok();
}

// A fresh temporary file in `dir` (never an existing one, never a symlink),
// filled and renamed over `name`: a planted symlink or hard link at `name` is
// replaced as a name, its target is never opened.
Result<void> replace_file(int dir, const std::string& name, std::string_view content, const std::string& shown) {
  const std::string tmp = ".certagent-" + name + ".tmp";
  ::unlinkat(dir, tmp.c_str(), 0);  // a leftover of a crash
  UniqueFd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return std::unexpected(storage_error("cannot create a temporary file for " + shown, errno));
  auto written = write_all(fd.get(), content, shown);
  if (written && ::fchmod(fd.get(), 0644) != 0) written = std::unexpected(storage_error("cannot chmod " + shown, errno));
  fd.reset();
  if (written && ::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0)
    written = std::unexpected(storage_error("cannot rename the temporary file to " + shown, errno));
  if (!written) ::unlinkat(dir, tmp.c_str(), 0);
  return written;
}

struct WebrootState {
  std::filesystem::path webroot;
  std::mutex mu;
  std::set<std::string> presented;
  bool created_well_known = false;
  bool created_acme_challenge = false;

  [[nodiscard]] std::string shown(const std::string& rest) const {
    return "'" + escape_control((webroot / rest).string(), 600) + "'";
  }
  Result<UniqueFd> open_webroot() const {
    UniqueFd fd(::open(webroot.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return std::unexpected(storage_error("cannot open the webroot " + shown(""), errno));
    return fd;
  }
  // The acme-challenge directory, created when `create` is set.
  Result<UniqueFd> challenge_dir(bool create) {
    auto root = open_webroot();
    if (!root) return std::unexpected(root.error());
    auto wk = open_dir(root->get(), kWellKnown, create, shown(kWellKnown), created_well_known);
    if (!wk || !*wk) return wk;
    return open_dir(wk->get(), kAcmeChallenge, create, shown(".well-known/acme-challenge"), created_acme_challenge);
  }
  void remove_created_dirs();
};

void WebrootState::remove_created_dirs() {
  auto root = open_webroot();
  if (!root) return;
  if (created_acme_challenge) {
    UniqueFd wk(::openat(root->get(), kWellKnown, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (wk && ::unlinkat(wk.get(), kAcmeChallenge, AT_REMOVEDIR) == 0) created_acme_challenge = false;
  }
  if (created_well_known && !created_acme_challenge && ::unlinkat(root->get(), kWellKnown, AT_REMOVEDIR) == 0)
    created_well_known = false;
}

class WebrootSolver final : public ChallengeSolver {
 public:
  explicit WebrootSolver(std::filesystem::path webroot) { state_.webroot = std::move(webroot); }
  [[nodiscard]] std::string_view type() const override { return "http-01"; }
  [[nodiscard]] Result<void> present(const ChallengeTask& task) override;
  [[nodiscard]] Result<void> clean_up(const ChallengeTask& task) override;

 private:
  WebrootState state_;
};

Result<void> WebrootSolver::present(const ChallengeTask& task) {
  const std::string what = "presenting http-01 for '" + escape_control(task.identifier, 300) + "' in the webroot";
  if (auto c = check_http01_task(task); !c) return std::unexpected(c.error().context(what));
  std::lock_guard lock(state_.mu);
  auto dir = state_.challenge_dir(true);
  if (!dir) return std::unexpected(dir.error().context(what));
  const std::string file = ".well-known/acme-challenge/" + task.token;
  if (auto w = replace_file(dir->get(), task.token, task.key_authorization, state_.shown(file)); !w)
    return std::unexpected(w.error().context(what));
  state_.presented.insert(task.token);
  return ok();
}

Result<void> WebrootSolver::clean_up(const ChallengeTask& task) {
  if (!check_token(task.token)) return ok();  // never presented: nothing of ours to remove
  std::lock_guard lock(state_.mu);
  auto dir = state_.challenge_dir(false);
  if (!dir) return std::unexpected(dir.error().context("cleaning up http-01 in the webroot"));
  if (*dir && ::unlinkat(dir->get(), task.token.c_str(), 0) != 0 && errno != ENOENT)
    return std::unexpected(storage_error("cannot remove " + state_.shown(".well-known/acme-challenge/" + task.token), errno));
  state_.presented.erase(task.token);
  dir->reset();
  if (state_.presented.empty()) state_.remove_created_dirs();
  return ok();
}

}  // namespace

std::unique_ptr<ChallengeSolver> make_webroot_solver(std::filesystem::path webroot) {
  return std::make_unique<WebrootSolver>(std::move(webroot));
}

}  // namespace certagent::protocol
