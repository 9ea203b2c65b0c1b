#include "agent/daemon/sd_notify.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

namespace certagent::agent {

Notifier::Notifier(Notifier&& o) noexcept
    : fd_(o.fd_), addr_(o.addr_), addr_len_(o.addr_len_), address_(std::move(o.address_)) {
  o.fd_ = -1;
}

Notifier& Notifier::operator=(Notifier&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    addr_ = o.addr_;
    addr_len_ = o.addr_len_;
    address_ = std::move(o.address_);
    o.fd_ = -1;
  }
  return *this;
}

Notifier::~Notifier() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Notifier> Notifier::for_address(std::string_view address) {
  Notifier n;
  if (address.empty()) return fail(ErrorKind::Invalid, "the notify socket address is empty");
  const bool abstract = address.front() == '@';
  if (!abstract && address.front() != '/')
    return fail(ErrorKind::Invalid, fmt::format("the notify socket \"{}\" is neither an absolute path nor "
                                                "an abstract name (@name)", address));
  if (address.size() > sizeof(n.addr_.sun_path) - (abstract ? 0 : 1))
    return fail(ErrorKind::Invalid, fmt::format("the notify socket address is {} bytes long; at most {} fit",
                                                address.size(), sizeof(n.addr_.sun_path) - 1));
  n.addr_.sun_family = AF_UNIX;
  std::memcpy(n.addr_.sun_path, address.data(), address.size());
  if (abstract) n.addr_.sun_path[0] = '\0';  // Linux abstract namespace: no terminator, exact length
  n.addr_len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() + (abstract ? 0 : 1));
  n.fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (n.fd_ < 0)
    return fail(ErrorKind::Transport, fmt::format("creating a socket for {}: {}", address, std::strerror(errno)));
  n.address_ = std::string(address);
  return n;
}

Result<Notifier> Notifier::from_environment() {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') return Notifier{};
  return for_address(env);
}

Result<void> Notifier::send(std::string_view message) const {
  if (fd_ < 0) return ok();
  const ssize_t n = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr_), addr_len_);
  if (n < 0)
    return fail(ErrorKind::Transport, fmt::format("notifying systemd at {}: {}", address_, std::strerror(errno)));
  if (static_cast<size_t>(n) != message.size())
    return fail(ErrorKind::Transport, fmt::format("notifying systemd at {}: short datagram", address_));
  return ok();
}

Result<void> Notifier::ready(std::string_view status) const {
  return send("READY=1\nSTATUS=" + status_value(status));
}
Result<void> Notifier::status(std::string_view line) const { return send("STATUS=" + status_value(line)); }
Result<void> Notifier::watchdog() const { return send("WATCHDOG=1"); }
Result<void> Notifier::stopping() const { return send("STOPPING=1"); }

std::string status_value(std::string_view line) {
  constexpr std::size_t cap = 1024;
  std::string out(line.substr(0, cap));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

namespace {

template <class T>
std::optional<T> parse_number(const char* s) {
  if (s == nullptr || *s == '\0') return std::nullopt;
  const char* end = s + std::strlen(s);
  T v{};
  auto [p, ec] = std::from_chars(s, end, v);
  if (ec != std::errc{} || p != end) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::chrono::microseconds> parse_watchdog(const char* usec, const char* pid, pid_t self) {
  if (pid != nullptr && *pid != '\0') {
    auto p = parse_number<long long>(pid);
    if (!p || *p != self) return std::nullopt;
  }
  auto us = parse_number<unsigned long long>(usec);
  // Zero disables; more than a day is not a watchdog anyone meant (and would overflow timers).
  if (!us || *us == 0 || *us > 86'400'000'000ULL) return std::nullopt;
  return std::chrono::microseconds{static_cast<long long>(*us)};
}

std::optional<std::chrono::microseconds> watchdog_from_environment() {
  return parse_watchdog(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid());
}

void unset_notify_environment() {
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

}  // namespace certagent::agent
