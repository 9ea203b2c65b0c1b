#include "agent/store/memo.hpp"

#include <algorithm>
#include <cstring>

#include "agent/store/verify.hpp"

namespace certagent::agent {
namespace {

std::int64_t ns(const struct timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

}  // namespace

FileKey file_key(const struct stat& st) {
  return FileKey{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                 static_cast<std::uint32_t>(st.st_mode), static_cast<std::int64_t>(st.st_size), ns(st.st_mtim),
                 ns(st.st_ctim)};
}

std::optional<FileKey> settled_key(const struct stat& st, std::chrono::system_clock::time_point looked_at) {
  const FileKey key = file_key(st);
  const std::int64_t limit =
      std::chrono::duration_cast<std::chrono::nanoseconds>((looked_at - kSettle).time_since_epoch()).count();
  if (key.mtime_ns >= limit || key.ctime_ns >= limit) return std::nullopt;
  return key;
}

std::optional<VersionKey> version_key(const FileKey (&keys)[6]) {
  // Field by field into a buffer (no padding bytes hashed).
  std::string bytes;
  bytes.reserve(6 * 44);
  for (const FileKey& k : keys)
    for (const void* f : {static_cast<const void*>(&k.dev), static_cast<const void*>(&k.ino),
                          static_cast<const void*>(&k.size), static_cast<const void*>(&k.mtime_ns),
                          static_cast<const void*>(&k.ctime_ns)})
      bytes.append(static_cast<const char*>(f), 8);
  for (const FileKey& k : keys) bytes.append(reinterpret_cast<const char*>(&k.mode), sizeof k.mode);
  const std::string hex = sha256_hex(bytes);
  if (hex.size() < VersionKey{}.size()) return std::nullopt;
  VersionKey out{};
  std::copy_n(hex.begin(), out.size(), out.begin());
  return out;
}

PlanMeta PlanMeta::of(const CertificateMeta& m) {
  return PlanMeta{m.certificate_id, m.names, m.thumbprint, m.key_type, m.profile, m.not_before, m.not_after, m.stored_at};
}

CertificateMeta PlanMeta::meta() const {
  CertificateMeta m;
  m.certificate_id = certificate_id;
  m.names = names;
  m.thumbprint = thumbprint;
  m.key_type = key_type;
  m.profile = profile;
  m.not_before = not_before;
  m.not_after = not_after;
  m.stored_at = stored_at;
  return m;
}

void Store::remember_versions() {
  std::lock_guard lock(memo_->m);
  memo_->remember_versions = true;
}

std::size_t Store::memo_hits() const {
  std::lock_guard lock(memo_->m);
  return memo_->hits;
}

std::size_t Store::memo_changes() const {
  std::lock_guard lock(memo_->m);
  return memo_->changed;
}

}  // namespace certagent::agent
