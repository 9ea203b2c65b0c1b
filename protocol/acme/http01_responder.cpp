#include "protocol/acme/http01_responder.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "common/escape.hpp"
#include "protocol/x509/base64.hpp"
#include "protocol/acme/challenge_check.hpp"

namespace certagent::protocol {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kChallengePrefix = "/.well-known/acme-challenge/";

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

struct Reply {
  int status;
  std::string body;
};

// The one resource this server has: GET/HEAD of a held token.
Reply route(std::string_view method, std::string_view target,
            const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  if (method != "GET" && method != "HEAD") return {405, "method not allowed\n"};
  if (!target.starts_with(kChallengePrefix)) return {404, "not found\n"};
  std::string_view token = target.substr(kChallengePrefix.size());
  if (!is_base64url(token) || token.size() > kMaxTokenLength) return {404, "not found\n"};
  if (auto ka = lookup(token)) return {200, *ka};
  return {404, "not found\n"};
}

// Parses the request line of a complete head; 400 when it is not HTTP/1.x.
Reply answer(std::string_view head, const std::function<std::optional<std::string>(std::string_view)>& lookup,
             bool& head_only) {
  auto eol = head.find_first_of("\r\n");
  std::string_view line = head.substr(0, eol);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return {400, "bad request\n"};
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return {400, "bad request\n"};
  head_only = method == "HEAD";
  return route(method, target, lookup);
}

std::string serialize(const Reply& r, bool head_only) {
  const char* reason = r.status == 200 ? "OK" : r.status == 404 ? "Not Found" : r.status == 405 ? "Method Not Allowed"
                     : r.status == 431 ? "Request Header Fields Too Large" : "Bad Request";
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason + "\r\n";
  out += "Content-Type: text/plain\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (r.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += r.body;
  return out;
}

Result<sockaddr_storage> parse_address(std::string address, std::uint16_t port, socklen_t& len) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return fail(ErrorKind::Invalid, "http-01 listen address '" + escape_control(address, 100) +
                                        "' is not an IPv4 or IPv6 address");
  }
  return ss;
}

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  std::size_t sent = 0;
  Clock::time_point deadline;
  bool writing = false;
};

}  // namespace

struct Http01Responder::Impl {
  Http01ResponderOptions options;
  mutable std::mutex mu;
  std::map<std::string, std::string, std::less<>> tokens;

  int listen_fd = -1;
  std::array<int, 2> wake{-1, -1};  // stop() writes a byte to wake[1]
  std::thread thread;
  std::atomic<bool> serving{false};
  std::uint16_t bound_port = 0;
  std::atomic<std::uint64_t> connections{0}, answered{0}, not_found{0}, refused{0};

  std::optional<std::string> lookup(std::string_view token) const {
    std::lock_guard lock(mu);
    auto it = tokens.find(token);
    if (it == tokens.end()) return std::nullopt;
    return it->second;
  }

  Result<void> open_listener();
  void close_fds();
  void run();
  void accept_all(std::vector<Connection>& conns);
  void on_ready(Connection& c);
  void on_readable(Connection& c);
  void on_writable(Connection& c);
  void respond(Connection& c, Reply reply, bool head_only);
  int poll_timeout(const std::vector<Connection>& conns) const;
};

Result<void> Http01Responder::Impl::open_listener() {
  socklen_t len = 0;
  auto addr = parse_address(options.address, options.port, len);
  if (!addr) return std::unexpected(addr.error());
  listen_fd = ::socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) return fail(ErrorKind::Transport, sys_error("cannot create the http-01 listening socket"));
  int one = 1;
  ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const std::string where = options.address + ":" + std::to_string(options.port);
  if (::bind(listen_fd, reinterpret_cast<const sockaddr*>(&*addr), len) != 0)
    return fail(ErrorKind::Transport, sys_error("cannot bind the http-01 responder to " + where));
  if (::listen(listen_fd, SOMAXCONN) != 0)
    return fail(ErrorKind::Transport, sys_error("cannot listen on " + where));
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &blen) != 0)
    return fail(ErrorKind::Transport, sys_error("cannot read the bound http-01 port"));
  bound_port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  if (::pipe2(wake.data(), O_CLOEXEC | O_NONBLOCK) != 0)
    return fail(ErrorKind::Transport, sys_error("cannot create the http-01 wake-up pipe"));
  return ok();
}

void Http01Responder::Impl::close_fds() {
  for (int* fd : {&listen_fd, &wake[0], &wake[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  bound_port = 0;
}

int Http01Responder::Impl::poll_timeout(const std::vector<Connection>& conns) const {
  auto now = Clock::now();
  auto next = now + std::chrono::seconds(1);
  for (const auto& c : conns) next = std::min(next, c.deadline);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
  return static_cast<int>(std::max<long>(ms, 0));
}

void Http01Responder::Impl::run() {
  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake[0], POLLIN, 0});
    // Over the cap, new connections wait in the kernel's backlog.
    fds.push_back({conns.size() < options.max_connections ? listen_fd : -1, POLLIN, 0});
    for (const auto& c : conns) fds.push_back({c.fd, static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
    int n = ::poll(fds.data(), fds.size(), poll_timeout(conns));
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;  // stop()
    for (std::size_t i = 0; i < conns.size(); ++i)
      if (fds[i + 2].revents != 0) on_ready(conns[i]);
    if (fds[1].revents & POLLIN) accept_all(conns);
    auto now = Clock::now();
    for (auto& c : conns)
      if (c.fd >= 0 && now >= c.deadline) {
        ::close(c.fd);
        c.fd = -1;
        ++refused;
      }
    std::erase_if(conns, [](const Connection& c) { return c.fd < 0; });
  }
  for (auto& c : conns) ::close(c.fd);
  serving = false;
}

void Http01Responder::Impl::accept_all(std::vector<Connection>& conns) {
  while (conns.size() < options.max_connections) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE, ECONNABORTED): poll again
    ++connections;
    conns.push_back(Connection{fd, {}, {}, 0, Clock::now() + options.connection_timeout, false});
  }
}

void Http01Responder::Impl::on_ready(Connection& c) {
  if (c.writing) on_writable(c);
  else on_readable(c);
}

void Http01Responder::Impl::on_readable(Connection& c) {
  std::array<char, 4096> buf{};
  for (;;) {
    ssize_t got = ::recv(c.fd, buf.data(), buf.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (got <= 0) {  // the client went away before a complete request
      ::close(c.fd);
      c.fd = -1;
      return;
    }
    c.in.append(buf.data(), static_cast<std::size_t>(got));
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) end = c.in.find("\n\n");
    if (end != std::string::npos && end <= options.max_request_bytes) {
      bool head_only = false;
      Reply r = answer(std::string_view(c.in).substr(0, end), [this](std::string_view t) { return lookup(t); }, head_only);
      return respond(c, std::move(r), head_only);
    }
    if (c.in.size() > options.max_request_bytes) return respond(c, {431, "request header too large\n"}, false);
  }
}

void Http01Responder::Impl::respond(Connection& c, Reply reply, bool head_only) {
  if (reply.status == 200) ++answered;
  else if (reply.status == 404) ++not_found;
  else ++refused;
  c.out = serialize(reply, head_only);
  c.writing = true;
  c.in.clear();
  on_writable(c);
}

void Http01Responder::Impl::on_writable(Connection& c) {
  while (c.sent < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) break;
    c.sent += static_cast<std::size_t>(n);
  }
  ::shutdown(c.fd, SHUT_WR);
  // Unread request bytes would turn close() into a reset that can destroy the
  // reply in flight; take what has arrived (bounded) before closing.
  std::array<char, 4096> sink{};
  for (int i = 0; i < 16 && ::recv(c.fd, sink.data(), sink.size(), 0) > 0; ++i) {
  }
  ::close(c.fd);
  c.fd = -1;
}

Http01Responder::Http01Responder(Http01ResponderOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Http01Responder::~Http01Responder() { stop(); }

Result<void> Http01Responder::start() {
  if (impl_->serving) return fail(ErrorKind::Invalid, "the http-01 responder is already running");
  if (auto r = impl_->open_listener(); !r) {
    impl_->close_fds();
    return r;
  }
  impl_->serving = true;
  try {
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
  } catch (const std::system_error& e) {
    impl_->serving = false;
    impl_->close_fds();
    return fail(ErrorKind::Transport, std::string("cannot start the http-01 responder thread: ") + e.what());
  }
  return ok();
}

void Http01Responder::stop() {
  if (!impl_->thread.joinable()) return;
  char byte = 1;
  while (::write(impl_->wake[1], &byte, 1) < 0 && errno == EINTR) {
  }
  impl_->thread.join();
  impl_->close_fds();
}

bool Http01Responder::running() const { return impl_->serving; }

std::uint16_t Http01Responder::port() const { return impl_->serving ? impl_->bound_port : 0; }

Http01ResponderStats Http01Responder::stats() const {
  return {impl_->connections, impl_->answered, impl_->not_found, impl_->refused};
}

Result<void> Http01Responder::present(const ChallengeTask& task) {
  if (auto c = check_http01_task(task); !c) return std::unexpected(c.error().context("presenting http-01 for '" + escape_control(task.identifier, 300) + "'"));
  std::lock_guard lock(impl_->mu);
  if (impl_->tokens.size() >= impl_->options.max_tokens && !impl_->tokens.contains(task.token))
    return fail(ErrorKind::Invalid, "the http-01 responder already holds " + std::to_string(impl_->tokens.size()) +
                                        " tokens (the maximum)");
  impl_->tokens.insert_or_assign(task.token, task.key_authorization);
  return ok();
}

Result<void> Http01Responder::clean_up(const ChallengeTask& task) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->tokens.find(task.token);
  if (it != impl_->tokens.end()) impl_->tokens.erase(it);
  return ok();
}

}  // namespace certagent::protocol
