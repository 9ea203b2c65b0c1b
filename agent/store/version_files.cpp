#include "agent/store/version_files.hpp"

namespace certagent::agent {

const char* file_name(VersionFile file) {
  switch (file) {
    case VersionFile::Key: return "privkey.pem";
    case VersionFile::Cert: return "cert.pem";
    case VersionFile::Chain: return "chain.pem";
    case VersionFile::Fullchain: return "fullchain.pem";
  }
  return "cert.pem";
}

std::filesystem::path path_of(const StoredVersion& version, VersionFile file) {
  return version.dir() / file_name(file);
}

Result<std::string> read_version_file(const StoredVersion& version, VersionFile file) {
  return fsutil::read_file(path_of(version, file),
                           file == VersionFile::Key ? std::size_t{64} * 1024 : fsutil::kDefaultReadCap);
}

}  // namespace certagent::agent
