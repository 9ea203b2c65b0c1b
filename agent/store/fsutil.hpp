#pragma once
// Crash-safe file primitives for the state directory. Every write goes to a
// temporary name in the same directory (O_CREAT|O_EXCL|O_NOFOLLOW), is
// fsynced, renamed into place, and the directory is fsynced: after a crash a
// file holds either its old or its new content, never a mix.
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace certagent::agent::fsutil {

namespace fs = std::filesystem;

inline constexpr std::size_t kDefaultReadCap = 1024 * 1024;

enum class EntryKind { Missing, File, Directory, Symlink, Other };

// What lstat() says `path` is (a symlink is reported as Symlink, not followed).
[[nodiscard]] Result<EntryKind> entry_kind(const fs::path& path);

// Creates `dir` with mode 0700 when missing (its parent must exist). An
// existing directory is accepted as it is; a symlink or a non-directory is
// refused.
[[nodiscard]] Result<void> make_private_dir(const fs::path& dir);

// `dir` is a real directory (not a symlink), neither group- nor
// other-writable, and (when `require_owner`) owned by this user.
[[nodiscard]] Result<void> check_private_dir(const fs::path& dir, bool require_owner = true);

// Every directory from / down to `dir`, opened one by one without following a symbolic link
// (openat with O_NOFOLLOW from the root), must be owned by root or this user and writable by
// neither group nor others — except a root-owned sticky directory such as /tmp (others can add
// entries there but not replace ours), and group write when the directory's group is
// `trusted_group` (a group the policy names for that output). Then no one but root and this
// user can swap a component for a link, and a path under `dir` means what it says (OpenSSH's
// StrictModes reasoning). A refusal names the directory and the rule.
[[nodiscard]] Result<void> check_trusted_directory(const fs::path& dir, std::optional<gid_t> trusted_group);

struct FileOwner {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// Replaces `file` atomically with `data`, created with exactly `mode` (and
// `owner` when given, set before the rename). Refuses when `file` exists as a
// directory or a symlink. Leaves no temporary file behind on failure.
[[nodiscard]] Result<void> write_file_atomic(const fs::path& file, std::string_view data, mode_t mode,
                                             const FileOwner& owner = {});

// Creates `file`, which must not exist (O_EXCL|O_NOFOLLOW), with `mode` (and
// `owner` when given), writes `data` and fsyncs it. For files inside a
// directory that is itself renamed into place afterwards, and for temporaries
// the caller renames itself.
[[nodiscard]] Result<void> write_new_file(const fs::path& file, std::string_view data, mode_t mode,
                                          const FileOwner& owner = {});

// write_new_file without the fsync: for a group of new files made durable
// together by one FilesystemSync::sync() before anything names them.
[[nodiscard]] Result<void> write_new_file_unflushed(const fs::path& file, std::string_view data, mode_t mode,
                                                    const FileOwner& owner = {});

// One syncfs(2) for a group of new files instead of an fsync each: on the
// benchmark machine's ext4 over virtio, five small files and their directory
// take 5 ms this way instead of 18 ms, with less CPU (the writes are merged;
// one cache flush). It flushes the
// whole filesystem the directory is on, so it is for a bounded burst of
// writes (one certificate version), never for a loop over a store.
// Open it BEFORE the writes it covers: syncfs reports a writeback error only
// when it happened after the descriptor was opened (Linux >= 5.8).
class FilesystemSync {
 public:
  [[nodiscard]] static Result<FilesystemSync> open(const fs::path& dir);
  FilesystemSync(FilesystemSync&& other) noexcept;
  FilesystemSync& operator=(FilesystemSync&&) = delete;
  FilesystemSync(const FilesystemSync&) = delete;
  FilesystemSync& operator=(const FilesystemSync&) = delete;
  ~FilesystemSync();
  // Every write made on the filesystem before the call is durable when it returns ok.
  [[nodiscard]] Result<void> sync();

 private:
  FilesystemSync(int fd, fs::path dir) : fd_(fd), dir_(std::move(dir)) {}
  int fd_;
  fs::path dir_;
};

// Reads a regular file without following a symlink, refusing more than `cap`
// bytes.
[[nodiscard]] Result<std::string> read_file(const fs::path& file, std::size_t cap = kDefaultReadCap);

// fsync() on a directory, so renames and creations inside it are durable.
[[nodiscard]] Result<void> fsync_dir(const fs::path& dir);

// While one is alive on this thread, write_file_atomic leaves the fsync of the
// directory after its rename to commit(), which fsyncs each directory once.
// For a run of independent whole-file replacements (the schedule of every
// certificate at the end of a pass): each file's data is durable before its
// rename, so after a crash every file is old or new, whole, as without the
// batch; a crash before commit() may lose the latest renames, which is the
// same as crashing before they were made. Never for a write that something
// later must find durable before it proceeds (then call fsync_dir yourself).
//
// With Files::OneSync the files are not fsynced one by one either: each is
// written to its temporary, and commit() makes all of them durable with one
// syncfs (FilesystemSync), then renames them into place in the order they
// were written, then fsyncs each directory once. Until commit() the files
// keep their old content (nothing in the batch may read what it wrote), and
// a failure of the syncfs removes the temporaries and renames none of them.
class DirSyncBatch {
 public:
  enum class Files { Flushed, OneSync };
  explicit DirSyncBatch(Files files = Files::Flushed);
  ~DirSyncBatch();  // commits what commit() was not called for (errors ignored)
  DirSyncBatch(const DirSyncBatch&) = delete;
  DirSyncBatch& operator=(const DirSyncBatch&) = delete;
  [[nodiscard]] Result<void> commit();
  [[nodiscard]] std::size_t pending() const { return dirs_.size() + renames_.size(); }
  void defer(const fs::path& dir);
  [[nodiscard]] bool defers_files() const { return files_ == Files::OneSync; }
  // Files::OneSync: `tmp`, already written, is renamed to `file` by commit().
  // Opens the FilesystemSync on the first call: call it BEFORE writing `tmp`.
  [[nodiscard]] Result<void> will_rename(const fs::path& dir);
  void defer_rename(fs::path tmp, fs::path file);

 private:
  struct Rename {
    fs::path tmp, file;
  };
  [[nodiscard]] Result<void> rename_all();
  Files files_;
  std::vector<fs::path> dirs_;
  std::vector<Rename> renames_;
  std::optional<FilesystemSync> sync_;
  DirSyncBatch* outer_;
};

// ".tmp-<stem>-<pid>-<8 random hex digits>": the name of every temporary
// file, directory or symlink certagent creates.
[[nodiscard]] std::string temp_name(std::string_view stem);
// True when `name` has the shape temp_name() produces.
[[nodiscard]] bool is_temp_name(std::string_view name);

// "strerror(errno)" with the operation and path: "<what> <path>: <reason>".
[[nodiscard]] Error errno_error(std::string_view what, const fs::path& path, int err);

}  // namespace certagent::agent::fsutil
