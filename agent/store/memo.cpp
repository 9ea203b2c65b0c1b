#include "agent/store/memo.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

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

namespace {

void pack(std::string& out, std::string_view s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(s);
}

std::string unpack(std::string_view packed, std::size_t& at) {
  std::uint32_t n = 0;
  std::memcpy(&n, packed.data() + at, sizeof n);
  at += sizeof n;
  std::string out(packed.substr(at, n));
  at += n;
  return out;
}

}  // namespace

PlanMeta PlanMeta::of(const CertificateMeta& m) {
  PlanMeta out{{}, m.not_before, m.not_after, m.stored_at};
  std::size_t size = 0;
  for (std::string_view s : {std::string_view(m.certificate_id), std::string_view(m.thumbprint),
                             std::string_view(m.key_type), std::string_view(m.profile)})
    size += sizeof(std::uint32_t) + s.size();
  for (const auto& n : m.names) size += sizeof(std::uint32_t) + n.size();
  out.packed.reserve(size);
  for (std::string_view s : {std::string_view(m.certificate_id), std::string_view(m.thumbprint),
                             std::string_view(m.key_type), std::string_view(m.profile)})
    pack(out.packed, s);
  for (const auto& n : m.names) pack(out.packed, n);  // the names last: as many as are left
  return out;
}

CertificateMeta PlanMeta::meta() const {
  CertificateMeta m;
  std::size_t at = 0;
  m.certificate_id = unpack(packed, at);
  m.thumbprint = unpack(packed, at);
  m.key_type = unpack(packed, at);
  m.profile = unpack(packed, at);
  while (at < packed.size()) m.names.push_back(unpack(packed, at));
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
