#include "protocol/http/tcp_connect.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace certagent::protocol {

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

namespace {

struct AddrInfoFree {
  void operator()(addrinfo* a) const noexcept { ::freeaddrinfo(a); }
};
using AddrList = std::unique_ptr<addrinfo, AddrInfoFree>;

// One background lookup; glibc's resolver thread writes into it.
struct Lookup {
  std::string host;
  std::string service;
  addrinfo hints{};
  gaicb cb{};
};

// Stops a lookup that ran out of time. A lookup glibc cannot stop any more
// still owns its memory: it is left to the resolver (a few hundred bytes).
void abandon(std::unique_ptr<Lookup> lookup) {
  const int rc = ::gai_cancel(&lookup->cb);
  if (rc == EAI_NOTCANCELED) {
    (void)lookup.release();
    return;
  }
  if (rc == EAI_ALLDONE && ::gai_error(&lookup->cb) == 0 && lookup->cb.ar_result != nullptr)
    ::freeaddrinfo(lookup->cb.ar_result);
}

Result<AddrList> resolve(const std::string& host, std::uint16_t port, IoBudget& budget) {
  const std::string service = std::to_string(port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* numeric = nullptr;
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &numeric) == 0) return AddrList(numeric);

  auto lookup = std::make_unique<Lookup>();
  lookup->host = host;
  lookup->service = service;
  lookup->hints.ai_socktype = SOCK_STREAM;
  lookup->hints.ai_flags = AI_NUMERICSERV;
  lookup->cb.ar_name = lookup->host.c_str();
  lookup->cb.ar_service = lookup->service.c_str();
  lookup->cb.ar_request = &lookup->hints;
  gaicb* list[] = {&lookup->cb};
  int rc = ::getaddrinfo_a(GAI_NOWAIT, list, 1, nullptr);
  if (rc == 0) rc = ::gai_error(&lookup->cb);
  for (; rc == EAI_INPROGRESS; rc = ::gai_error(&lookup->cb)) {
    if (auto left = budget.check(); !left) {
      abandon(std::move(lookup));
      return std::unexpected(left.error());
    }
    const timespec tick{0, static_cast<long>(budget.poll_ms()) * 1'000'000L};
    (void)::gai_suspend(list, 1, &tick);
  }
  if (rc != 0)
    return fail(ErrorKind::Transport,
                fmt::format("could not resolve host {}: {}", host, rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)),
                true);
  return AddrList(lookup->cb.ar_result);
}

// One address: Ok(socket), or the errno of the failed attempt (budget errors returned as such).
Result<Socket> connect_one(const addrinfo& ai, IoBudget& budget, int& error) {
  Socket s(::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
  if (s.fd() < 0) {
    error = errno;
    return Socket{};
  }
  if (::connect(s.fd(), ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      error = errno;
      return Socket{};
    }
    if (auto ready = wait_for(s.fd(), POLLOUT, budget); !ready) return std::unexpected(ready.error());
    socklen_t len = sizeof error;
    if (::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error != 0) return Socket{};
  }
  const int on = 1;
  (void)::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  (void)::setsockopt(s.fd(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  return s;
}

}  // namespace

Result<Socket> tcp_connect(const std::string& host, std::uint16_t port, IoBudget& budget) {
  auto addresses = resolve(host, port, budget);
  if (!addresses) return std::unexpected(addresses.error());
  int error = ECONNREFUSED;
  for (const addrinfo* ai = addresses->get(); ai != nullptr; ai = ai->ai_next) {
    auto s = connect_one(*ai, budget, error);
    if (!s) return std::unexpected(s.error());
    if (s->fd() >= 0) return std::move(*s);
  }
  return fail(ErrorKind::Transport, std::strerror(error), true);
}

Result<void> send_all(int fd, std::string_view bytes, IoBudget& budget) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      budget.moved(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (auto ready = wait_for(fd, POLLOUT, budget); !ready) return ready;
      continue;
    }
    return fail(ErrorKind::Transport, fmt::format("sending: {}", std::strerror(errno)), true);
  }
  return ok();
}

Result<std::size_t> recv_some(int fd, std::string& into, std::size_t max, IoBudget& budget) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, std::min(max, sizeof buf), 0);
    if (n >= 0) {
      into.append(buf, static_cast<std::size_t>(n));
      budget.moved(static_cast<std::size_t>(n));
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return fail(ErrorKind::Transport, fmt::format("receiving: {}", std::strerror(errno)), true);
    if (auto ready = wait_for(fd, POLLIN, budget); !ready) return std::unexpected(ready.error());
  }
}

}  // namespace certagent::protocol
