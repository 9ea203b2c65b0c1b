#pragma once
// The webroot http-01 solver: an existing web server serves the answer from
// <webroot>/.well-known/acme-challenge/<token>. Every step below the webroot
// is taken relative to a directory descriptor with O_NOFOLLOW, so a symlink
// planted as .well-known, acme-challenge or the token file is refused or
// replaced, never followed; a token is checked to be base64url before use.
#include <filesystem>
#include <memory>

#include "common/error.hpp"
#include "protocol/acme/challenge.hpp"

namespace certagent::protocol {

// The webroot itself must exist (it may be a symlink the operator made); the two directories
// below it are created (mode 0755) when missing. present() writes the key authorization (mode
// 0644) through a temporary file renamed into place — errors: Protocol/Invalid for a refused
// task, Storage for the file system (including a symlinked directory); clean_up() removes the
// file and, once no presented token remains, the directories it created if they are empty.
// Thread-safe.
[[nodiscard]] std::unique_ptr<ChallengeSolver> make_webroot_solver(std::filesystem::path webroot);

}  // namespace certagent::protocol
