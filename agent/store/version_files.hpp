#pragma once
// The files of a stored version (<state>/certs/<id>/), named and read here so that no code
// outside agent/store/ builds a path under the state directory (issue 14).
#include <cstddef>
#include <filesystem>
#include <string>

#include "agent/store/fsutil.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

enum class VersionFile { Key, Cert, Chain, Fullchain };

// "privkey.pem", "cert.pem", "chain.pem", "fullchain.pem".
[[nodiscard]] const char* file_name(VersionFile file);
// <state>/certs/<id>/<file>, for messages and for hooks that are handed a path.
[[nodiscard]] std::filesystem::path path_of(const StoredVersion& version, VersionFile file);
// The file's text; a key is read with a 64 KiB cap, the others with fsutil's default.
[[nodiscard]] Result<std::string> read_version_file(const StoredVersion& version, VersionFile file);

}  // namespace certagent::agent
