#include "common/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/unique_fd.hpp"

namespace certagent {

Result<std::string> read_secret_file(const std::string& path, std::string_view what, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return fail(ErrorKind::Invalid, fmt::format("cannot open {} {}: {}", what, path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return fail(ErrorKind::Invalid, fmt::format("cannot stat {} {}: {}", what, path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) return fail(ErrorKind::Invalid, fmt::format("{} {} is not a regular file", what, path));
  if ((st.st_mode & 0027) != 0)
    return fail(ErrorKind::Invalid, fmt::format("{} {} has mode {:04o}; it holds a secret, so it must not "
                                                "be writable by its group nor open to others (chmod 0600, or 0640 with "
                                                "the agent's group)", what, path, st.st_mode & 07777));
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return fail(ErrorKind::Invalid, fmt::format("{} {} is owned by uid {}; it must be owned by root or by "
                                                "the agent's user (uid {})", what, path, st.st_uid, ::geteuid()));
  if (static_cast<std::size_t>(st.st_size) > max_bytes)
    return fail(ErrorKind::Invalid, fmt::format("{} {} is larger than {} bytes", what, path, max_bytes));
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorKind::Invalid, fmt::format("cannot read {} {}", what, path));
    got += static_cast<std::size_t>(n);
  }
  return text;
}

}  // namespace certagent
