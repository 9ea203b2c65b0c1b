#include "agent/store/memo.hpp"

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
