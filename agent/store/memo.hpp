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

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

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

// The identities of a version's directory and its five files (kVersionFiles order), as one
// digest: the first 128 bits of the SHA-256 of the six FileKeys (six keys kept as they are were
// 240 bytes a version, a fifth of the idle daemon's memory at 10,000 certificates: issue 26).
using VersionKey = std::array<char, 32>;  // hex
// nullopt when SHA-256 is not to be had (nothing is remembered then).
[[nodiscard]] std::optional<VersionKey> version_key(const FileKey (&keys)[6]);

// What a Plan scan (store.hpp's InventoryDetail) keeps of a version's meta.json: certificate_id,
// names, thumbprint, key_type, profile and the three times. The strings are packed into one
// buffer, each with its length (six strings and a vector a version were 300 bytes of the daemon's
// memo at 10,000 certificates, a 128-byte buffer is enough: issue 26).
struct PlanMeta {
  std::string packed;
  std::chrono::sys_seconds not_before{}, not_after{}, stored_at{};

  [[nodiscard]] static PlanMeta of(const CertificateMeta& meta);
  [[nodiscard]] CertificateMeta meta() const;
};

// What load_version made of a version, with the identities of its directory and five files.
struct StoreMemoVersion {
  VersionKey key;
  PlanMeta meta;  // the version's id is the map's key, its directory certs/<id>
};

struct StoreMemo {
  using Version = StoreMemoVersion;
  std::mutex m;
  bool remember_versions = false;  // Store::remember_versions
  std::unordered_map<std::string, Version> versions;  // by version id (Plan scans only)
  std::size_t hits = 0;       // entries found unchanged (tests)
  std::size_t changed = 0;    // versions found changed behind the store's back (tests)
};

}  // namespace certagent::agent
