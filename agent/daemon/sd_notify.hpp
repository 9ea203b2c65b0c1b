#pragma once
// A small sd_notify(3) client (no libsystemd): datagrams to the AF_UNIX socket systemd names in
// $NOTIFY_SOCKET — a path, or an abstract name written with a leading '@'.
// Messages: READY=1 after the first pass, STATUS=<line> after each pass, WATCHDOG=1 at half
// the watchdog interval, STOPPING=1 on SIGTERM. Without $NOTIFY_SOCKET the notifier is
// disabled and every call is a successful no-op, so the daemon runs the same outside systemd.
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent::agent {

class Notifier {
 public:
  Notifier() = default;  // disabled
  Notifier(Notifier&& o) noexcept;
  Notifier& operator=(Notifier&& o) noexcept;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  ~Notifier();

  // "/run/systemd/notify" or "@abstract-name". Fails (Invalid) for an empty, relative or
  // over-long address; the socket is not contacted until the first send.
  [[nodiscard]] static Result<Notifier> for_address(std::string_view address);
  // From $NOTIFY_SOCKET; disabled when it is unset or empty.
  [[nodiscard]] static Result<Notifier> from_environment();

  [[nodiscard]] bool enabled() const { return fd_ >= 0; }
  [[nodiscard]] const std::string& address() const { return address_; }

  // Sends one datagram ("KEY=value" lines). Fails (Transport) when the socket refuses it.
  [[nodiscard]] Result<void> send(std::string_view message) const;

  [[nodiscard]] Result<void> ready(std::string_view status) const;   // READY=1 + STATUS=
  [[nodiscard]] Result<void> status(std::string_view line) const;    // STATUS=
  [[nodiscard]] Result<void> watchdog() const;                       // WATCHDOG=1
  [[nodiscard]] Result<void> stopping() const;                       // STOPPING=1

 private:
  int fd_ = -1;
  sockaddr_un addr_{};
  socklen_t addr_len_ = 0;
  std::string address_;
};

// A STATUS= value: one line (control characters become spaces), at most 1024 bytes.
[[nodiscard]] std::string status_value(std::string_view line);

// The watchdog interval systemd asks for: $WATCHDOG_USEC, when $WATCHDOG_PID is unset or names
// `self`. Absent when unset, zero, not a number, or meant for another process.
[[nodiscard]] std::optional<std::chrono::microseconds> parse_watchdog(const char* usec, const char* pid, pid_t self);
[[nodiscard]] std::optional<std::chrono::microseconds> watchdog_from_environment();

// Removes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment (call before any
// thread starts), so that nothing the agent runs can talk to systemd in its name.
void unset_notify_environment();

}  // namespace certagent::agent
