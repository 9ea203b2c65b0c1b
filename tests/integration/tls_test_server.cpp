#include "tls_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fmt/format.h>

namespace certagent::integration {

namespace {

struct CtxFree {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using SslCtx = std::unique_ptr<SSL_CTX, CtxFree>;
using Ssl = std::unique_ptr<SSL, SslFree>;

class SslReply final : public Reply {
 public:
  SslReply(SSL* ssl, const std::atomic<bool>& stop) : ssl_(ssl), stop_(stop) {}
  bool write(std::string_view bytes) override {
    while (!bytes.empty()) {
      int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  [[nodiscard]] bool stopping() const override { return stop_.load(); }
  void keep_open() override { keep_ = true; }
  void cut() override { cut_ = true; }
  [[nodiscard]] bool kept_open() const { return keep_ && !cut_; }
  [[nodiscard]] bool was_cut() const { return cut_; }

 private:
  SSL* ssl_;
  const std::atomic<bool>& stop_;
  bool keep_ = false;
  bool cut_ = false;
};

// SSL_read that waits (in 200 ms slices) until data, the peer's close, 5 s or `stop`.
int read_some(SSL* ssl, char* buf, int size, const std::atomic<bool>& stop) {
  for (int slices = 0; slices < 25 && !stop.load(); ++slices) {
    const int n = SSL_read(ssl, buf, size);
    if (n > 0) return n;
    const int e = SSL_get_error(ssl, n);
    if (e != SSL_ERROR_WANT_READ && !(e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) return n;
    ERR_clear_error();
  }
  return 0;
}

// Reads the header block and a Content-Length body; empty on error.
std::string read_request(SSL* ssl, const std::atomic<bool>& stop) {
  std::string in;
  char buf[4096];
  std::size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    int n = read_some(ssl, buf, sizeof buf, stop);
    if (n <= 0) return {};
    in.append(buf, static_cast<std::size_t>(n));
    header_end = in.find("\r\n\r\n");
  }
  std::size_t length = 0;
  for (auto name : {"Content-Length:", "content-length:"}) {
    auto pos = in.find(name);
    if (pos != std::string::npos && pos < header_end) length = std::stoul(in.substr(pos + std::strlen(name)));
  }
  while (in.size() < header_end + 4 + length) {
    int n = read_some(ssl, buf, sizeof buf, stop);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

}  // namespace

struct TlsTestServer::State {
  SslCtx ctx;
  int listen_fd = -1;
  int port = 0;
  Handler handler;
  std::atomic<bool> stop{false};
  mutable std::mutex mutex;
  std::vector<std::string> requests;
  std::size_t connections = 0;
  std::size_t closed = 0;
  std::atomic<std::chrono::milliseconds::rep> handshake_delay_ms{0};

  ~State() {
    if (listen_fd >= 0) ::close(listen_fd);
  }

  void serve(int fd) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(handshake_delay_ms.load());
    while (!stop.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    Ssl ssl(SSL_new(ctx.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_accept(ssl.get()) != 1) {
      ERR_clear_error();
      return;
    }
    timeout = {0, 200'000};  // requests are read in slices that watch `stop`
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    {
      std::lock_guard lock(mutex);
      ++connections;
    }
    for (;;) {
      std::string request = read_request(ssl.get(), stop);
      if (request.empty()) return;
      {
        std::lock_guard lock(mutex);
        requests.push_back(request);
      }
      SslReply reply(ssl.get(), stop);
      handler(request, reply);
      if (reply.was_cut()) return;  // the caller closes the socket: no close_notify
      if (!reply.kept_open()) break;
    }
    SSL_shutdown(ssl.get());
    ERR_clear_error();
  }

  void run() {
    while (!stop.load()) {
      pollfd p{listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int fd = ::accept(listen_fd, nullptr, nullptr);
      if (fd < 0) continue;
      serve(fd);
      ::close(fd);
      std::lock_guard lock(mutex);
      ++closed;
    }
  }
};

Result<std::unique_ptr<TlsTestServer>> TlsTestServer::start(const std::string& cert_file,
                                                            const std::string& key_file, Handler handler) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the test
  auto state = std::make_unique<State>();
  state->handler = std::move(handler);
  state->ctx.reset(SSL_CTX_new(TLS_server_method()));
  if (!state->ctx || SSL_CTX_use_certificate_chain_file(state->ctx.get(), cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(state->ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail(ErrorKind::Crypto, fmt::format("test server: loading {} and {}", cert_file, key_file));

  state->listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (state->listen_fd < 0 || ::bind(state->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(state->listen_fd, 16) != 0 ||
      ::getsockname(state->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return fail(ErrorKind::Transport, fmt::format("test server: listening on 127.0.0.1: {}", std::strerror(errno)));
  state->port = ntohs(addr.sin_port);
  return std::unique_ptr<TlsTestServer>(new TlsTestServer(std::move(state)));
}

TlsTestServer::TlsTestServer(std::unique_ptr<State> state)
    : state_(std::move(state)), thread_([s = state_.get()] { s->run(); }) {}

TlsTestServer::~TlsTestServer() {
  state_->stop.store(true);
  thread_.join();
}

std::string TlsTestServer::url(std::string_view path) const {
  return fmt::format("https://127.0.0.1:{}{}", state_->port, path);
}

std::size_t TlsTestServer::connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->connections;
}

std::size_t TlsTestServer::closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

int TlsTestServer::port() const { return state_->port; }

void TlsTestServer::delay_handshake(std::chrono::milliseconds delay) { state_->handshake_delay_ms.store(delay.count()); }

std::vector<std::string> TlsTestServer::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

}  // namespace certagent::integration
