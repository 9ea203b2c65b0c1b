#pragma once
// Reading a file that holds a secret (a TSIG key, a pool's encryption key): only a regular file
// (no symbolic link), owned by root or the agent's user, not writable by its group nor open to
// others, and small. Errors name the file and `what` it is, never its content.
#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent {

[[nodiscard]] Result<std::string> read_secret_file(const std::string& path, std::string_view what,
                                                   std::size_t max_bytes);

}  // namespace certagent
