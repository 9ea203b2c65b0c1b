#pragma once
// Extra per-purpose files the policy can ask for, written from the bound
// version at the policy's path with the policy's owner, group and mode — for
// consumers that cannot read the 0700 state directory or want one file.
// Formats: a combined PEM (full chain, then the private key). PKCS#12 is not
// written yet.
#include <sys/types.h>

#include <filesystem>
#include <string>

#include "agent/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

enum class OutputFormat { CombinedPem };

struct OutputSpec {
  std::filesystem::path path;  // absolute; its directory must exist
  OutputFormat format = OutputFormat::CombinedPem;
  std::string owner;           // user name or numeric uid; empty: this process's
  std::string group;           // group name or numeric gid; empty: this process's
  mode_t mode = 0600;
};

// Writes `spec` atomically from `version` (a symlink at the path is refused).
[[nodiscard]] Result<void> write_output(const StoredVersion& version, const OutputSpec& spec);

}  // namespace certagent::agent
