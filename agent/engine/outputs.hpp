#pragma once
// Extra per-purpose files the policy can ask for ("purposes" in the policy:
// cert, chain, fullchain, key, combined_pem, pkcs12), written from the bound
// version at the operator's stable paths with the policy's owner, group and
// mode — for consumers that cannot read the 0700 state directory, or want
// their files somewhere else or in one file.
//
// Writing is a transaction in two steps, so a bad output (unknown group,
// missing directory, symlink at the path, missing password file) changes
// nothing, and a failure after the switch can put the previous files back:
//
//   stage   every file is written in full to a temporary name next to its
//           target (O_EXCL|O_NOFOLLOW, mode and owner set, fsynced); each
//           existing target is kept as a backup (a hard link); nothing a
//           consumer reads has changed yet.
//   commit  the temporaries are renamed over their targets in this order:
//             key, combined_pem, pkcs12, chain, fullchain, cert
//           then each directory is fsynced. The key comes first: a consumer
//           that notices a new cert (or fullchain) finds its key already in
//           place; combined_pem and pkcs12 carry key and chain in one file
//           and so are consistent by themselves. A consumer that reads the
//           key and the cert from separate files must still wait for its
//           hook to reload (see docs/operations.md).
//   undo    puts the backups back (and removes files that did not exist
//           before): the state before the commit, byte for byte.
// Destroying a StagedOutputs removes any temporaries and backups left.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/store/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

// Declared in commit order.
enum class OutputFormat { Key, CombinedPem, Pkcs12, Chain, Fullchain, Cert };

[[nodiscard]] std::string_view to_string(OutputFormat f);

struct OutputSpec {
  std::filesystem::path path;  // absolute; its directory must exist
  OutputFormat format = OutputFormat::CombinedPem;
  std::string owner;           // user name or numeric uid; empty: not changed (this process's)
  std::string group;           // group name or numeric gid; empty: not changed (this process's)
  mode_t mode = 0600;
  // PKCS#12 only: the file holding the password (one line; a trailing newline
  // is not part of it). nullopt: an empty password.
  std::optional<std::filesystem::path> password_file;
  std::string friendly_name;   // PKCS#12 only: the bundle's friendly name
};

class StagedOutputs {
 public:
  StagedOutputs() = default;
  StagedOutputs(StagedOutputs&& other) noexcept;
  StagedOutputs& operator=(StagedOutputs&& other) noexcept;
  StagedOutputs(const StagedOutputs&) = delete;
  StagedOutputs& operator=(const StagedOutputs&) = delete;
  ~StagedOutputs();

  // Renames every temporary into place (commit order, see above). On failure
  // the files already renamed are put back before returning the error.
  [[nodiscard]] Result<void> commit();
  // After commit(): restores what the targets held before.
  [[nodiscard]] Result<void> undo();
  [[nodiscard]] bool empty() const { return entries_.empty(); }

  struct Entry {
    std::filesystem::path target;
    std::filesystem::path temp;                   // "" once renamed into place
    std::optional<std::filesystem::path> backup;  // the replaced file, hard-linked
    bool committed = false;
  };
  // For stage_outputs only.
  void add(Entry entry) { entries_.push_back(std::move(entry)); }

 private:
  void discard() noexcept;
  std::vector<Entry> entries_;
};

// Stages every spec from `version` (see above). Nothing is visible until
// commit(); on failure nothing is left behind and the error names the file
// and what to change.
[[nodiscard]] Result<StagedOutputs> stage_outputs(const StoredVersion& version, std::span<const OutputSpec> specs);

// stage_outputs + commit, for one-off writes.
[[nodiscard]] Result<void> write_outputs(const StoredVersion& version, std::span<const OutputSpec> specs);
[[nodiscard]] Result<void> write_output(const StoredVersion& version, const OutputSpec& spec);

}  // namespace certagent::agent
