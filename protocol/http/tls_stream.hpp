#pragma once
// One verified TLS connection (TLS 1.2 or later) over a non-blocking socket,
// every wait inside an IoBudget. The peer's chain is verified against the
// context's store and its name against the host: a DNS name (also sent as
// SNI) or an IP address literal (no SNI, RFC 6066 §3).
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "protocol/http/io_budget.hpp"
#include "protocol/x509/ossl.hpp"
#include "protocol/http/tcp_connect.hpp"

namespace certagent::protocol {

// A client context: TLS ≥ 1.2, peer verification on, trusting only
// `trust_file` when named (Invalid when it cannot be read or holds no
// certificate), else the system store — looked up by hash in the system
// certificate directory (SSL_CERT_DIR or OpenSSL's default) as certificates
// are needed, plus the bundle named by SSL_CERT_FILE when that is set.
[[nodiscard]] Result<ossl::SslCtx> new_client_context(const std::string& trust_file);

class TlsStream {
 public:
  // The handshake with `host` over `socket`. Verification failures are
  // Transport errors, not retryable, naming OpenSSL's reason.
  [[nodiscard]] static Result<std::unique_ptr<TlsStream>> handshake(SSL_CTX* ctx, Socket socket,
                                                                    const std::string& host, IoBudget& budget);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  [[nodiscard]] Result<void> write_all(std::string_view bytes, IoBudget& budget);
  // Appends what arrives; 0 when the peer closed (or reset) the connection.
  [[nodiscard]] Result<std::size_t> read_some(std::string& into, IoBudget& budget);
  // False when an idle connection has anything to read: the server closed it
  // (close_notify, FIN, reset) or sent something unasked; it must not be reused.
  [[nodiscard]] bool idle_and_open() const;

 private:
  TlsStream(Socket socket, ossl::Ssl ssl) : socket_(std::move(socket)), ssl_(std::move(ssl)) {}
  Socket socket_;
  ossl::Ssl ssl_;
};

}  // namespace certagent::protocol
