#pragma once
// Reading the policy file from disk (policy/ itself never touches files).
#include <cstddef>
#include <string>

#include "common/error.hpp"
#include "policy/model.hpp"

namespace certagent::agent {

inline constexpr std::size_t kMaxPolicyBytes = std::size_t{1} << 20;  // 1 MiB: policies are a few KiB

// The file's text; refuses anything but a regular file (a FIFO, a device such
// as a symlink to /dev/zero) and files over kMaxPolicyBytes.
[[nodiscard]] Result<std::string> read_policy_text(const std::string& path);

// read_policy_text + policy::parse_policy; every error is one line that starts
// with the file name ("FILE:LINE:COLUMN: ..." for content errors).
[[nodiscard]] Result<policy::Policy> load_policy(const std::string& path);

}  // namespace certagent::agent
