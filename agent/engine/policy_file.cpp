#include "agent/engine/policy_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "policy/parse.hpp"

namespace certagent::agent {
namespace {

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string cannot_read(const std::string& path, const std::string& why) {
  return fmt::format("{}: cannot read the policy: {}", path, why);
}

}  // namespace

Result<std::string> read_policy_text(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang; regular files ignore it.
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (f.fd < 0 && errno == ENOENT)
    return fail(ErrorKind::Storage,
                cannot_read(path, "there is no such file. Start from an example — /usr/share/doc/certagent/examples "
                                  "(docs/examples in the source: a Standard Edition server, an Enterprise pool, a "
                                  "reverse proxy, …) — copy it there, edit the names and the CA, and check it with "
                                  "`certagent policy check " + path + "`; or write one with `certagent init "
                                  "--role ROLE --ca-directory URL ...` (see `certagent init --help`); or name "
                                  "another file with --policy"));
  if (f.fd < 0) return fail(ErrorKind::Storage, cannot_read(path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return fail(ErrorKind::Storage, cannot_read(path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return fail(ErrorKind::Invalid, cannot_read(path, fmt::format("it is {}; a policy is a regular file",
                                                                  file_kind(st.st_mode))));
  if (static_cast<std::size_t>(st.st_size) > kMaxPolicyBytes)
    return fail(ErrorKind::Invalid, cannot_read(path, fmt::format("it is {} bytes; a policy is at most {} bytes",
                                                                  st.st_size, kMaxPolicyBytes)));
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::Storage, cannot_read(path, std::strerror(errno)));
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxPolicyBytes)  // the file grew after fstat
      return fail(ErrorKind::Invalid, cannot_read(path, fmt::format("it is over {} bytes", kMaxPolicyBytes)));
  }
  return text;
}

Result<policy::Policy> load_policy(const std::string& path) {
  auto text = read_policy_text(path);
  if (!text) return std::unexpected(text.error());
  return policy::parse_policy(*text, path);
}

}  // namespace certagent::agent
