#pragma once
// What the store remembers of the files it parsed, so that a pass with nothing to do does not
// read and parse them again (issue 26). Between the store's own files; not an interface.
//
// A file is taken as unchanged only when its identity — device, inode, type and mode, size,
// mtime and ctime to the nanosecond — is the one it had when it was read. Nobody can set a
// ctime back (an edit, a rename onto it, chmod or touch -d all set it to now), so an edit
// with the size and mtime restored is still seen. One gap remains: file times are coarse
// (a clock tick, a whole second on some file systems), so an edit in the same tick as the
// read would keep every field. A file changed less than kSettle before it was looked at is
// therefore never remembered (git's "racily clean" rule).
#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "agent/store/store.hpp"

namespace certagent::agent {

struct FileKey {
  std::uint64_t dev = 0, ino = 0;
  std::uint32_t mode = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  friend bool operator==(const FileKey&, const FileKey&) = default;
};

inline constexpr std::chrono::seconds kSettle{2};

[[nodiscard]] FileKey file_key(const struct stat& st);
// The key of `st`, or nullopt when it changed less than kSettle before `looked_at` (or later).
[[nodiscard]] std::optional<FileKey> settled_key(const struct stat& st, std::chrono::system_clock::time_point looked_at);

// What load_version made of a version, with the identities of its directory and its five files
// (kVersionFiles order).
struct StoreMemoVersion {
  FileKey dir;
  FileKey files[5];
  CertificateMeta meta;  // the version's id is the key, its directory certs/<id>
};

struct StoreMemo {
  using Version = StoreMemoVersion;
  std::mutex m;
  bool remember_versions = false;  // Store::remember_versions
  std::unordered_map<std::string, Version> versions;  // by version id
  std::size_t hits = 0;       // entries found unchanged (tests)
  std::size_t changed = 0;    // versions found changed behind the store's back (tests)
};

}  // namespace certagent::agent
