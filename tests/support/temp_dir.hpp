#pragma once
// One temporary directory per test: made with mkdtemp (mode 0700) under $TMPDIR, removed with
// everything in it when the TempDir goes, even where a test took away its write bits.
#include <filesystem>
#include <string_view>

namespace certagent::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "certagent-test");  // throws if mkdtemp fails
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace certagent::testing
