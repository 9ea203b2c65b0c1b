#include "agent/store/fsutil.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include <fmt/format.h>

#include "agent/store/fault.hpp"
#include "common/unique_fd.hpp"

namespace certagent::agent::fsutil {
namespace {

// Closes the descriptor on scope exit unless released.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  [[nodiscard]] Result<void> close_checked(const fs::path& path) {
    int f = fd;
    fd = -1;
    if (::close(f) != 0) return std::unexpected(errno_error("closing", path, errno));
    return ok();
  }
};

thread_local DirSyncBatch* t_batch = nullptr;  // the innermost batch alive on this thread

Error injected(std::string_view point, const fs::path& path) {
  return Error(ErrorKind::Storage, fmt::format("injected fault at {} for {}", point, path.string()));
}

Result<void> write_all(int fd, std::string_view data, const fs::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    if (done > 0 && fault_point("write_file.mid_write")) return std::unexpected(injected("write_file.mid_write", path));
    // Write in pieces so a fault between them leaves a genuinely partial file.
    std::size_t chunk = std::min<std::size_t>(data.size() - done, data.size() > 1 ? (data.size() + 1) / 2 : 1);
    ssize_t n = ::write(fd, data.data() + done, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(errno_error("writing", path, errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

enum class Flush { File, Later };

// Fills, sets mode/owner and (unless the caller flushes later) fsyncs the newly created `fd`.
Result<void> fill(Fd& f, const fs::path& file, std::string_view data, mode_t mode, const FileOwner& owner,
                  Flush flush) {
  if (fault_point("write_file.after_create")) return std::unexpected(injected("write_file.after_create", file));
  if (auto w = write_all(f.fd, data, file); !w) return w;
  if ((owner.uid || owner.gid) &&
      ::fchown(f.fd, owner.uid ? *owner.uid : static_cast<uid_t>(-1), owner.gid ? *owner.gid : static_cast<gid_t>(-1)) != 0)
    return std::unexpected(errno_error("setting the owner of", file, errno));
  // fchmod after creation: the mode is exact whatever the umask.
  if (::fchmod(f.fd, mode) != 0) return std::unexpected(errno_error("setting the mode of", file, errno));
  if (flush == Flush::File && ::fsync(f.fd) != 0) return std::unexpected(errno_error("flushing", file, errno));
  return f.close_checked(file);
}

// Creates `file` (which must not exist) and fills it; on failure removes
// what it created, and only that.
Result<void> create_and_fill(const fs::path& file, std::string_view data, mode_t mode, const FileOwner& owner,
                             Flush flush = Flush::File) {
  Fd f(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (f.fd < 0) {
    if (errno == EEXIST) return fail(ErrorKind::Storage, "creating " + file.string() + ": it already exists");
    return std::unexpected(errno_error("creating", file, errno));
  }
  auto r = fill(f, file, data, mode, owner, flush);
  if (!r) ::unlink(file.c_str());
  return r;
}

}  // namespace

Error errno_error(std::string_view what, const fs::path& path, int err) {
  return Error(ErrorKind::Storage, fmt::format("{} {}: {}", what, path.string(), std::strerror(err)));
}

Result<EntryKind> entry_kind(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return EntryKind::Missing;
    return std::unexpected(errno_error("inspecting", path, errno));
  }
  if (S_ISLNK(st.st_mode)) return EntryKind::Symlink;
  if (S_ISDIR(st.st_mode)) return EntryKind::Directory;
  if (S_ISREG(st.st_mode)) return EntryKind::File;
  return EntryKind::Other;
}

Result<void> make_private_dir(const fs::path& dir) {
  // An existing directory is the usual case: one lstat, no failing mkdir (issue 26).
  if (struct stat st {}; ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return ok();
  if (::mkdir(dir.c_str(), 0700) == 0) return fsync_dir(dir.parent_path().empty() ? fs::path(".") : dir.parent_path());
  if (errno != EEXIST) return std::unexpected(errno_error("creating directory", dir, errno));
  auto kind = entry_kind(dir);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Symlink)
    return fail(ErrorKind::Storage, dir.string() + " is a symbolic link; certagent refuses to follow it");
  if (*kind != EntryKind::Directory) return fail(ErrorKind::Storage, dir.string() + " exists and is not a directory");
  return ok();
}

Result<void> check_private_dir(const fs::path& dir, bool require_owner) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return std::unexpected(errno_error("inspecting", dir, errno));
  if (S_ISLNK(st.st_mode))
    return fail(ErrorKind::Storage, dir.string() + " is a symbolic link; certagent refuses to follow it");
  if (!S_ISDIR(st.st_mode)) return fail(ErrorKind::Storage, dir.string() + " is not a directory");
  if (require_owner && st.st_uid != ::geteuid())
    return fail(ErrorKind::Storage, fmt::format("{} is owned by uid {}, not by this user (uid {})", dir.string(),
                                                st.st_uid, ::geteuid()));
  if ((st.st_mode & 022) != 0)
    return fail(ErrorKind::Storage, fmt::format("{} has mode {:04o}: writable by group or others (chmod 700 {})",
                                                dir.string(), st.st_mode & 07777, dir.string()));
  return ok();
}

Result<void> check_trusted_directory(const fs::path& dir, std::optional<gid_t> trusted_group) {
  if (!dir.is_absolute()) return fail(ErrorKind::Invalid, dir.string() + " is not an absolute path");
  UniqueFd at(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!at) return std::unexpected(errno_error("opening", "/", errno));
  fs::path walked = "/";
  const uid_t me = ::geteuid();
  for (auto it = dir.begin();; ++it) {
    while (it != dir.end() && (it->empty() || *it == "/" || *it == ".")) ++it;
    const bool last = it == dir.end();  // the output's own directory: no sticky exception
    struct stat st {};
    if (::fstat(at.get(), &st) != 0) return std::unexpected(errno_error("inspecting", walked, errno));
    const bool root_sticky = !last && st.st_uid == 0 && (st.st_mode & S_ISVTX) != 0;
    if (st.st_uid != 0 && st.st_uid != me)
      return fail(ErrorKind::Storage,
                  fmt::format("{} is owned by uid {}: every directory on an output path must be owned by root or by "
                              "the agent's user (uid {}), or its owner could replace what is below it with a link "
                              "(chown root {})",
                              walked.string(), st.st_uid, me, walked.string()));
    if ((st.st_mode & S_IWOTH) != 0 && !root_sticky)
      return fail(ErrorKind::Storage,
                  fmt::format("{} is writable by every user (mode {:04o}), so anyone could plant a link on the output "
                              "path; use a directory only root (or the output's group) can write (chmod o-w {})",
                              walked.string(), st.st_mode & 07777, walked.string()));
    if ((st.st_mode & S_IWGRP) != 0 && !root_sticky && !(trusted_group && st.st_gid == *trusted_group))
      return fail(ErrorKind::Storage,
                  fmt::format("{} is writable by its group (gid {}, mode {:04o}), which the policy does not name for "
                              "this output; chmod g-w {}, or name that group as the output's \"group\" to trust it",
                              walked.string(), st.st_gid, st.st_mode & 07777, walked.string()));
    if (last) return ok();
    if (*it == "..") return fail(ErrorKind::Invalid, dir.string() + ": '..' is not allowed in an output path");
    const int next = ::openat(at.get(), it->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    walked /= *it;
    if (next < 0) {
      const int e = errno;
      if (e == ELOOP || e == ENOTDIR) {
        struct stat lst {};
        if (::fstatat(at.get(), it->c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
          return fail(ErrorKind::Storage, fmt::format("{} is a symbolic link; certagent does not follow links on an "
                                                      "output path: name the real directory in the policy",
                                                      walked.string()));
        return fail(ErrorKind::Storage, walked.string() + " is not a directory");
      }
      if (e == ENOENT)
        return fail(ErrorKind::Storage, fmt::format("the directory {} does not exist; create it (install -d -m 0755 "
                                                    "{}) or change the path in the policy", walked.string(),
                                                    dir.string()));
      return std::unexpected(errno_error("opening", walked, e));
    }
    at = UniqueFd(next);
  }
}

Result<void> write_new_file(const fs::path& file, std::string_view data, mode_t mode, const FileOwner& owner) {
  return create_and_fill(file, data, mode, owner);
}

Result<void> write_new_file_unflushed(const fs::path& file, std::string_view data, mode_t mode,
                                      const FileOwner& owner) {
  return create_and_fill(file, data, mode, owner, Flush::Later);
}

Result<FilesystemSync> FilesystemSync::open(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(errno_error("opening directory", dir, errno));
  return FilesystemSync(fd, dir);
}

FilesystemSync::FilesystemSync(FilesystemSync&& o) noexcept : fd_(std::exchange(o.fd_, -1)), dir_(std::move(o.dir_)) {}

FilesystemSync::~FilesystemSync() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> FilesystemSync::sync() {
  if (fault_point("fsutil.syncfs")) return std::unexpected(injected("fsutil.syncfs", dir_));
  if (::syncfs(fd_) != 0) return std::unexpected(errno_error("flushing the filesystem of", dir_, errno));
  return ok();
}

Result<void> write_file_atomic(const fs::path& file, std::string_view data, mode_t mode, const FileOwner& owner) {
  auto kind = entry_kind(file);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Symlink)
    return fail(ErrorKind::Storage, file.string() + " is a symbolic link; certagent refuses to write through it");
  if (*kind == EntryKind::Directory || *kind == EntryKind::Other)
    return fail(ErrorKind::Storage, file.string() + " exists and is not a regular file");
  fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  fs::path tmp = dir / temp_name(file.filename().string());
  if (t_batch != nullptr && t_batch->defers_files()) {
    if (auto opened = t_batch->will_rename(dir); !opened) return opened;
    if (auto r = create_and_fill(tmp, data, mode, owner, Flush::Later); !r) return r;
    t_batch->defer_rename(std::move(tmp), file);
    t_batch->defer(dir);
    return ok();
  }
  if (auto r = create_and_fill(tmp, data, mode, owner); !r) return r;
  if (fault_point("write_file.before_rename")) {
    ::unlink(tmp.c_str());
    return std::unexpected(injected("write_file.before_rename", file));
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return std::unexpected(errno_error("renaming into place", file, e));
  }
  if (t_batch != nullptr) {
    t_batch->defer(dir);
    return ok();
  }
  return fsync_dir(dir);
}

DirSyncBatch::DirSyncBatch(Files files) : files_(files), outer_(t_batch) { t_batch = this; }

DirSyncBatch::~DirSyncBatch() {
  t_batch = outer_;
  (void)commit();
}

Result<void> DirSyncBatch::will_rename(const fs::path& dir) {
  if (sync_) return ok();
  auto opened = FilesystemSync::open(dir);
  if (!opened) return std::unexpected(opened.error());
  sync_.emplace(std::move(*opened));
  return ok();
}

void DirSyncBatch::defer_rename(fs::path tmp, fs::path file) { renames_.push_back({std::move(tmp), std::move(file)}); }

// One syncfs for every temporary, then the renames in order; on any failure
// the temporaries not renamed yet are removed (their files keep the old content).
Result<void> DirSyncBatch::rename_all() {
  std::vector<Rename> renames;
  renames.swap(renames_);
  Result<void> result = renames.empty() ? ok() : sync_->sync();
  for (const auto& r : renames) {
    if (result && fault_point("write_file.before_rename"))
      result = std::unexpected(injected("write_file.before_rename", r.file));
    if (result && ::rename(r.tmp.c_str(), r.file.c_str()) == 0) continue;
    if (result) result = std::unexpected(errno_error("renaming into place", r.file, errno));
    ::unlink(r.tmp.c_str());
  }
  return result;
}

void DirSyncBatch::defer(const fs::path& dir) {
  if (std::find(dirs_.begin(), dirs_.end(), dir) == dirs_.end()) dirs_.push_back(dir);
}

Result<void> DirSyncBatch::commit() {
  Result<void> result = rename_all();
  std::vector<fs::path> dirs;
  dirs.swap(dirs_);
  for (const auto& d : dirs)
    if (auto r = fsync_dir(d); !r && result) result = r;
  return result;
}

Result<std::string> read_file(const fs::path& file, std::size_t cap) {
  Fd f(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (f.fd < 0) {
    if (errno == ELOOP) return fail(ErrorKind::Storage, file.string() + " is a symbolic link; certagent refuses to follow it");
    return std::unexpected(errno_error("opening", file, errno));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return std::unexpected(errno_error("inspecting", file, errno));
  if (!S_ISREG(st.st_mode)) return fail(ErrorKind::Storage, file.string() + " is not a regular file");
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(errno_error("reading", file, errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > cap)
      return fail(ErrorKind::Storage, fmt::format("{} is larger than {} bytes; refusing to read it", file.string(), cap));
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

Result<void> fsync_dir(const fs::path& dir) {
  Fd f(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (f.fd < 0) return std::unexpected(errno_error("opening directory", dir, errno));
  if (::fsync(f.fd) != 0) return std::unexpected(errno_error("flushing directory", dir, errno));
  return f.close_checked(dir);
}

std::string temp_name(std::string_view stem) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return fmt::format(".tmp-{}-{}-{:08x}", stem, ::getpid(), static_cast<unsigned>(rng()));
}

bool is_temp_name(std::string_view name) {
  if (!name.starts_with(".tmp-") || name.size() < 5 + 1 + 1 + 1 + 8) return false;
  std::string_view hex = name.substr(name.size() - 8);
  for (char c : hex)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  std::string_view rest = name.substr(0, name.size() - 9);
  if (name[name.size() - 9] != '-') return false;
  auto dash = rest.rfind('-');
  if (dash == std::string_view::npos || dash + 1 >= rest.size() || dash < 5) return false;
  for (char c : rest.substr(dash + 1))
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace certagent::agent::fsutil
