#include "protocol/http/tls_stream.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <poll.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace certagent::protocol {

namespace {

// OpenSSL writes to the socket with write(2): a peer that reset the
// connection would raise SIGPIPE and end the process. The signal is blocked
// in this thread while OpenSSL runs, and one that arrived meanwhile is
// taken off the thread before unblocking (as libcurl does).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (sigismember(&old_, SIGPIPE) == 1) return;  // was blocked already: leave it as it was
    sigset_t pending;
    sigemptyset(&pending);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec now{0, 0};
      (void)sigtimedwait(&pipe_, nullptr, &now);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
};

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Result<void> load_system_trust(SSL_CTX* ctx) {
  const char* dir = std::getenv(X509_get_default_cert_dir_env());
  if (dir == nullptr || *dir == '\0') dir = X509_get_default_cert_dir();
  if (SSL_CTX_load_verify_dir(ctx, dir) != 1)
    return std::unexpected(ossl::crypto_error(fmt::format("using the system certificate directory {}", dir)));
  const char* file = std::getenv(X509_get_default_cert_file_env());
  if (file != nullptr && *file != '\0' && SSL_CTX_load_verify_file(ctx, file) != 1)
    return fail(ErrorKind::Invalid, fmt::format("reading the trust bundle {} (SSL_CERT_FILE): {}", file,
                                                ossl::drain_errors()));
  return ok();
}

// Waits for what OpenSSL asked for; an error for anything else.
Result<bool> wait_for_ssl(SSL* ssl, int rc, int fd, IoBudget& budget) {
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      if (auto r = wait_for(fd, POLLIN, budget); !r) return std::unexpected(r.error());
      return true;
    case SSL_ERROR_WANT_WRITE:
      if (auto r = wait_for(fd, POLLOUT, budget); !r) return std::unexpected(r.error());
      return true;
    default:
      return false;
  }
}

Error handshake_error(SSL* ssl, const std::string& host, int rc) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return Error(ErrorKind::Transport,
                 fmt::format("TLS handshake with {}: the certificate was refused: {} (TLS verification failed: is the "
                             "CA's root in the trust bundle?)",
                             host, X509_verify_cert_error_string(verify)));
  }
  const int kind = SSL_get_error(ssl, rc);
  if (kind == SSL_ERROR_SYSCALL || kind == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    return Error(ErrorKind::Transport,
                 fmt::format("TLS handshake with {}: the connection was closed ({})", host,
                             errno != 0 ? std::strerror(errno) : "end of stream"),
                 true);
  }
  return Error(ErrorKind::Transport, fmt::format("TLS handshake with {}: {}", host, ossl::drain_errors()));
}

}  // namespace

Result<ossl::SslCtx> new_client_context(const std::string& trust_file) {
  ossl::SslCtx ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1)
    return std::unexpected(ossl::crypto_error("creating the TLS client context"));
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  if (trust_file.empty()) {
    if (auto loaded = load_system_trust(ctx.get()); !loaded) return std::unexpected(loaded.error());
  } else if (SSL_CTX_load_verify_file(ctx.get(), trust_file.c_str()) != 1) {
    return fail(ErrorKind::Invalid, fmt::format("reading the trust bundle {}: {}", trust_file, ossl::drain_errors()));
  }
  return ctx;
}

Result<std::unique_ptr<TlsStream>> TlsStream::handshake(SSL_CTX* ctx, Socket socket, const std::string& host,
                                                        IoBudget& budget) {
  ossl::Ssl ssl(SSL_new(ctx));
  if (!ssl || SSL_set_fd(ssl.get(), socket.fd()) != 1)
    return std::unexpected(ossl::crypto_error("creating a TLS connection"));
  const bool ip = is_ip_literal(host);
  const bool named = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), host.c_str()) == 1
                        : SSL_set1_host(ssl.get(), host.c_str()) == 1 &&
                              SSL_set_tlsext_host_name(ssl.get(), host.c_str()) == 1;
  if (!named) return std::unexpected(ossl::crypto_error(fmt::format("setting the expected host name {}", host)));
  SSL_set_connect_state(ssl.get());
  SigpipeGuard guard;
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    auto waited = wait_for_ssl(ssl.get(), rc, socket.fd(), budget);
    if (!waited) return std::unexpected(waited.error());
    if (!*waited) return std::unexpected(handshake_error(ssl.get(), host, rc));
  }
  return std::unique_ptr<TlsStream>(new TlsStream(std::move(socket), std::move(ssl)));
}

TlsStream::~TlsStream() {
  SigpipeGuard guard;
  (void)SSL_shutdown(ssl_.get());  // one close_notify, never waited for
  ERR_clear_error();
}

Result<void> TlsStream::write_all(std::string_view bytes, IoBudget& budget) {
  SigpipeGuard guard;
  while (!bytes.empty()) {
    ERR_clear_error();
    const int rc = SSL_write(ssl_.get(), bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 30)));
    if (rc > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(rc));
      budget.moved(static_cast<std::size_t>(rc));
      continue;
    }
    auto waited = wait_for_ssl(ssl_.get(), rc, socket_.fd(), budget);
    if (!waited) return std::unexpected(waited.error());
    if (!*waited) {
      ERR_clear_error();
      return fail(ErrorKind::Transport, "sending the request: the connection was dropped", true);
    }
  }
  return ok();
}

Result<std::size_t> TlsStream::read_some(std::string& into, IoBudget& budget) {
  char buf[16384];
  SigpipeGuard guard;
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_read(ssl_.get(), buf, sizeof buf);
    if (rc > 0) {
      into.append(buf, static_cast<std::size_t>(rc));
      budget.moved(static_cast<std::size_t>(rc));
      return static_cast<std::size_t>(rc);
    }
    auto waited = wait_for_ssl(ssl_.get(), rc, socket_.fd(), budget);
    if (!waited) return std::unexpected(waited.error());
    if (*waited) continue;
    const int kind = SSL_get_error(ssl_.get(), rc);
    if (kind == SSL_ERROR_ZERO_RETURN || kind == SSL_ERROR_SYSCALL) {
      ERR_clear_error();
      return std::size_t{0};
    }
    return fail(ErrorKind::Transport, fmt::format("reading the response: {}", ossl::drain_errors()), true);
  }
}

bool TlsStream::idle_and_open() const {
  if (SSL_pending(ssl_.get()) > 0) return false;
  pollfd p{socket_.fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace certagent::protocol
