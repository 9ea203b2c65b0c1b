#pragma once
// Reading a file whole, for tests that look at what was written (logs, outputs, fixtures' env files).
#include <filesystem>
#include <string>

namespace certagent::testing {

// The whole content of `path`; empty when it cannot be read.
[[nodiscard]] std::string read_text(const std::filesystem::path& path);

}  // namespace certagent::testing
