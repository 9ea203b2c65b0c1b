#include "connect_proxy.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace certagent::integration {

namespace {

// A listening socket on 127.0.0.1 and a kernel-chosen port.
int listen_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("test listener: cannot listen on 127.0.0.1");
  port = ntohs(addr.sin_port);
  return fd;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Copies bytes both ways until one side closes or `stop`.
void relay(int a, int b, const std::atomic<bool>& stop) {
  char buf[16384];
  while (!stop.load()) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (::poll(p, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (p[i].revents == 0) continue;
      const ssize_t n = ::recv(p[i].fd, buf, sizeof buf, 0);
      if (n <= 0 || !write_all(p[1 - i].fd, std::string_view(buf, static_cast<std::size_t>(n)))) return;
    }
  }
}

}  // namespace

ConnectProxy::ConnectProxy(int refuse_status) : refuse_status_(refuse_status) {
  listen_fd_ = listen_loopback(port_);
  thread_ = std::thread([this] { run(); });
}

ConnectProxy::~ConnectProxy() {
  stop_.store(true);
  thread_.join();
  ::close(listen_fd_);
}

std::string ConnectProxy::url() const { return fmt::format("http://127.0.0.1:{}", port_); }

std::vector<std::string> ConnectProxy::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void ConnectProxy::run() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    serve(client);
    ::close(client);
  }
}

void ConnectProxy::serve(int client) {
  timeval timeout{5, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string head;
  char c = 0;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16384) {
    if (::recv(client, &c, 1, 0) != 1) return;
    head += c;
  }
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(head);
  }
  if (refuse_status_ != 0) {
    (void)write_all(client, fmt::format("HTTP/1.1 {} Refused\r\nContent-Length: 0\r\n\r\n", refuse_status_));
    return;
  }
  // "CONNECT 127.0.0.1:port HTTP/1.1" or "CONNECT localhost:port ..."
  const auto colon = head.find(':');
  const auto space = head.find(' ', colon);
  const int port = colon == std::string::npos ? 0 : std::atoi(head.substr(colon + 1, space - colon - 1).c_str());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (upstream < 0 || ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    (void)write_all(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    if (upstream >= 0) ::close(upstream);
    return;
  }
  if (write_all(client, "HTTP/1.1 200 Connection established\r\n\r\n")) relay(client, upstream, stop_);
  ::close(upstream);
}

SilentListener::SilentListener() { fd_ = listen_loopback(port_); }

SilentListener::~SilentListener() { ::close(fd_); }

bool SilentListener::has_pending_bytes() const {
  // "sl local_address rem_address st tx_queue:rx_queue ...": an established connection whose
  // local end is 127.0.0.1:port_ (0100007F:PORT) with bytes not read.
  std::ifstream in("/proc/net/tcp");
  const std::string local = fmt::format("0100007F:{:04X}", port_);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string sl, local_address, remote, state, queues;
    if (!(fields >> sl >> local_address >> remote >> state >> queues)) continue;
    const auto colon = queues.find(':');
    if (local_address == local && state == "01" && colon != std::string::npos &&
        std::strtoul(queues.c_str() + colon + 1, nullptr, 16) > 0)
      return true;
  }
  return false;
}

bool SilentListener::has_pending_connection() const {
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

}  // namespace certagent::integration
