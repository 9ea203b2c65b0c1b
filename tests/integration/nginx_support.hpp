#pragma once
// A real nginx of the test's own (tests/integration/nginx-ctl: Debian's nginx with its own
// prefix, configuration and pid file, on a free 127.0.0.1 port — never the system service),
// and a TLS client that reads the certificate it serves, as a browser would: SNI set, a full
// handshake every time (no session resumption).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace certagent::integration {

class NginxInstance {
 public:
  // Writes <dir>/conf/nginx.conf: one TLS server on 127.0.0.1:<free port> for `server_names`
  // whose TLS part is `include`d from `tls_snippet` (its relative paths are relative to
  // <dir>/conf), answering "ok" to every request. Does not start nginx.
  NginxInstance(std::filesystem::path dir, const std::vector<std::string>& server_names,
                const std::filesystem::path& tls_snippet);
  ~NginxInstance();  // `nginx-ctl stop` (by the pid it recorded)
  NginxInstance(const NginxInstance&) = delete;
  NginxInstance& operator=(const NginxInstance&) = delete;

  void start() const;  // `nginx-ctl start`; throws std::runtime_error with its output
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::filesystem::path conf_dir() const { return dir_ / "conf"; }
  [[nodiscard]] std::filesystem::path conf_file() const { return dir_ / "conf" / "nginx.conf"; }
  [[nodiscard]] std::filesystem::path error_log() const { return dir_ / "logs" / "error.log"; }
  // `-p PREFIX -c CONF -g 'pid FILE;'`: what `nginx -t` and `nginx -s reload` need to reach it.
  [[nodiscard]] std::vector<std::string> args() const;

 private:
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
};

// A self-signed EC certificate and key (what a fresh install serves before certagent's first
// certificate), written to `cert` and `key`.
void write_placeholder_certificate(const std::filesystem::path& cert, const std::filesystem::path& key);

struct Served {
  std::string thumbprint;  // SHA-1 of the leaf, 40 upper-case hex digits (as certagent shows it)
  std::vector<std::string> names;  // its DNS names
};

// One TLS handshake with 127.0.0.1:port, SNI `server_name`, without verifying the chain (the
// test compares thumbprints); the error says what failed.
[[nodiscard]] std::expected<Served, std::string> tls_handshake(std::uint16_t port, const std::string& server_name);

// TLS handshakes in a loop on a thread of their own, one every `interval`, with SNI
// `server_name`: how many, which failed, and for each certificate served when it was first and
// last seen, in the order first seen (during a reload nginx may hand out either).
class HandshakeLoop {
 public:
  using Clock = std::chrono::steady_clock;
  struct Seen {
    std::string thumbprint;
    Clock::time_point first, last;
  };
  HandshakeLoop(std::uint16_t port, std::string server_name, std::chrono::milliseconds interval);
  ~HandshakeLoop();
  HandshakeLoop(const HandshakeLoop&) = delete;
  HandshakeLoop& operator=(const HandshakeLoop&) = delete;
  void stop();
  [[nodiscard]] std::size_t distinct() const;  // certificates seen so far (while it runs)
  // Read after stop().
  std::size_t handshakes = 0;
  std::vector<std::string> failures;
  std::vector<Seen> seen;

 private:
  void loop(std::uint16_t port, const std::string& server_name, std::chrono::milliseconds interval);
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::thread thread_;
};

// When nginx's master takes each SIGHUP: its error log's "signal 1 (SIGHUP) received" lines
// (error_log at level notice), polled every 2 ms on a thread of its own.
class ReloadWatch {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ReloadWatch(std::filesystem::path error_log);
  ~ReloadWatch();
  ReloadWatch(const ReloadWatch&) = delete;
  ReloadWatch& operator=(const ReloadWatch&) = delete;
  [[nodiscard]] std::vector<Clock::time_point> reloads() const;
  [[nodiscard]] std::optional<Clock::time_point> before(Clock::time_point t) const;  // the latest at or before t

 private:
  void loop();
  std::filesystem::path log_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Clock::time_point> seen_;
  std::thread thread_;
};

}  // namespace certagent::integration
