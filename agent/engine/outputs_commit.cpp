// The commit and undo halves of StagedOutputs (agent/engine/outputs.hpp).
#include <unistd.h>

#include <set>

#include <fmt/format.h>

#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/engine/outputs.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace {

std::set<fs::path> directories_of(const std::vector<StagedOutputs::Entry>& entries) {
  std::set<fs::path> dirs;
  for (const auto& e : entries) dirs.insert(e.target.parent_path());
  return dirs;
}

Result<void> fsync_all(const std::set<fs::path>& dirs) {
  for (const auto& d : dirs)
    if (auto r = fsutil::fsync_dir(d); !r) return r;
  return ok();
}

}  // namespace

StagedOutputs::StagedOutputs(StagedOutputs&& other) noexcept : entries_(std::move(other.entries_)) {
  other.entries_.clear();
}

StagedOutputs& StagedOutputs::operator=(StagedOutputs&& other) noexcept {
  if (this != &other) {
    discard();
    entries_ = std::move(other.entries_);
    other.entries_.clear();
  }
  return *this;
}

StagedOutputs::~StagedOutputs() { discard(); }

void StagedOutputs::discard() noexcept {
  for (auto& e : entries_) {
    if (!e.committed && !e.temp.empty()) ::unlink(e.temp.c_str());
    if (e.backup) ::unlink(e.backup->c_str());
  }
  entries_.clear();
}

Result<void> StagedOutputs::commit() {
  for (auto& e : entries_) {
    if (e.committed) continue;
    if (fault_point("outputs.commit.before_rename")) {
      (void)undo();
      return fail(ErrorKind::Storage, "injected fault at outputs.commit.before_rename for " + e.target.string());
    }
    if (::rename(e.temp.c_str(), e.target.c_str()) != 0) {
      Error err = fsutil::errno_error("renaming into place", e.target, errno);
      if (auto back = undo(); !back) err = std::move(err).context("(and putting the previous files back failed: " +
                                                                    back.error().message + ")");
      return std::unexpected(std::move(err));
    }
    e.committed = true;
    e.temp.clear();
  }
  return fsync_all(directories_of(entries_));
}

Result<void> StagedOutputs::undo() {
  std::optional<Error> first;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    auto& e = *it;
    if (!e.committed) continue;
    int rc = e.backup ? ::rename(e.backup->c_str(), e.target.c_str()) : ::unlink(e.target.c_str());
    if (rc != 0 && !first)
      first = fsutil::errno_error(e.backup ? "putting back the previous" : "removing the new", e.target, errno);
    if (rc == 0) e.backup.reset();
    e.committed = false;
  }
  if (auto synced = fsync_all(directories_of(entries_)); !synced && !first) first = synced.error();
  if (first) return std::unexpected(*first);
  return ok();
}

}  // namespace certagent::agent
