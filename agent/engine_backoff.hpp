#pragma once
// Where the engine keeps each certificate's failure back-off (agent/backoff.hpp)
// between passes and restarts: <state>/backoff/<certificate-id>.json, written
// atomically by the writer (who holds the state lock).
#include <filesystem>
#include <string_view>

#include "agent/backoff.hpp"
#include "agent/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

// No file: no back-off. A file the engine did not write is an error (the
// caller logs it and treats the certificate as not backed off).
[[nodiscard]] Result<BackoffState> load_backoff(const std::filesystem::path& state_dir, std::string_view certificate_id);
[[nodiscard]] Result<void> save_backoff(const Store& store, std::string_view certificate_id, const BackoffState& state);

}  // namespace certagent::agent
