#include "nginx_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/process.hpp"
#include "protocol/x509/certificate.hpp"
#include "protocol/x509/ossl.hpp"

namespace certagent::integration {
namespace {

namespace fs = std::filesystem;

const fs::path kCtl = fs::path(CERTAGENT_SOURCE_DIR) / "tests" / "integration" / "nginx-ctl";

ProcessOutcome ctl(const std::vector<std::string>& args) {
  ProcessSpec spec;
  spec.argv = {kCtl.string()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.inherit_path = true;
  spec.timeout = std::chrono::seconds(60);
  auto r = run_process(spec);
  if (!r) throw std::runtime_error("cannot run nginx-ctl: " + r.error().message);
  return *r;
}

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? buf : std::string("; ") + buf;
  }
  return out.empty() ? "(no OpenSSL error)" : out;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

NginxInstance::NginxInstance(fs::path dir, const std::vector<std::string>& server_names, const fs::path& tls_snippet)
    : dir_(std::move(dir)) {
  auto port = ctl({"free-port"});
  if (!port.succeeded()) throw std::runtime_error("nginx-ctl free-port: " + port.err);
  port_ = static_cast<std::uint16_t>(std::stoi(port.out));
  fs::create_directories(conf_dir());
  std::string names;
  for (const auto& n : server_names) names += " " + n;
  std::ofstream(conf_file()) << fmt::format(
      "# written by tests/integration/nginx_support.cpp; started by nginx-ctl\n"
      "worker_processes 1;\n"
      "error_log logs/error.log notice;\n"
      "events {{ worker_connections 256; }}\n"
      "http {{\n"
      "  access_log off;\n"
      "  server {{\n"
      "    listen 127.0.0.1:{} ssl;\n"
      "    server_name{};\n"
      "    include {};\n"
      "    location / {{ return 200 \"ok\\n\"; }}\n"
      "  }}\n"
      "}}\n",
      port_, names, tls_snippet.string());
}

NginxInstance::~NginxInstance() {
  try {
    (void)ctl({"stop", dir_.string()});
  } catch (...) {
  }
}

void NginxInstance::start() const {
  auto r = ctl({"start", dir_.string()});
  if (!r.succeeded()) throw std::runtime_error("nginx-ctl start " + dir_.string() + ": " + r.err + r.out);
}

std::vector<std::string> NginxInstance::args() const {
  auto r = ctl({"args", dir_.string()});
  if (!r.succeeded()) throw std::runtime_error("nginx-ctl args: " + r.err);
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void write_placeholder_certificate(const fs::path& cert, const fs::path& key) {
  ProcessSpec spec;
  spec.argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-days", "1", "-subj", "/CN=placeholder", "-keyout", key.string(), "-out", cert.string()};
  spec.inherit_path = true;
  spec.timeout = std::chrono::seconds(30);
  auto r = run_process(spec);
  if (!r || !r->succeeded()) throw std::runtime_error("openssl req for a placeholder certificate failed");
}

std::expected<Served, std::string> tls_handshake(std::uint16_t port, const std::string& server_name) {
  ossl::SslCtx ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return std::unexpected("SSL_CTX_new: " + openssl_errors());
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  Fd sock{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) return std::unexpected(fmt::format("socket: {}", std::strerror(errno)));
  timeval tv{5, 0};
  ::setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(sock.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return std::unexpected(fmt::format("connect to 127.0.0.1:{}: {}", port, std::strerror(errno)));
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  if (!ssl) return std::unexpected("SSL_new: " + openssl_errors());
  SSL_set_fd(ssl.get(), sock.fd);
  SSL_set_tlsext_host_name(ssl.get(), server_name.c_str());
  if (SSL_connect(ssl.get()) != 1) return std::unexpected("TLS handshake: " + openssl_errors());
  ossl::X509Ptr leaf(SSL_get1_peer_certificate(ssl.get()));
  (void)SSL_shutdown(ssl.get());
  if (!leaf) return std::unexpected(std::string("the server sent no certificate"));
  auto cert = protocol::Certificate::from_x509(std::move(leaf));
  if (!cert) return std::unexpected("the served certificate: " + cert.error().message);
  return Served{cert->info().sha1_thumbprint, cert->info().dns_names};
}

HandshakeLoop::HandshakeLoop(std::uint16_t port, std::string server_name, std::chrono::milliseconds interval)
    : thread_([this, port, name = std::move(server_name), interval] { loop(port, name, interval); }) {}

HandshakeLoop::~HandshakeLoop() { stop(); }

void HandshakeLoop::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::size_t HandshakeLoop::distinct() const {
  std::lock_guard lock(mu_);
  return seen.size();
}

void HandshakeLoop::loop(std::uint16_t port, const std::string& server_name, std::chrono::milliseconds interval) {
  while (!stop_) {
    auto s = tls_handshake(port, server_name);
    const auto now = Clock::now();
    {
      std::lock_guard lock(mu_);
      ++handshakes;
      if (!s) {
        failures.push_back(s.error());
      } else {
        auto it = std::find_if(seen.begin(), seen.end(), [&](const Seen& x) { return x.thumbprint == s->thumbprint; });
        if (it == seen.end()) seen.push_back(Seen{s->thumbprint, now, now});
        else it->last = now;
      }
    }
    std::this_thread::sleep_for(interval);
  }
}

ReloadWatch::ReloadWatch(fs::path error_log) : log_(std::move(error_log)), thread_([this] { loop(); }) {}

ReloadWatch::~ReloadWatch() {
  stop_ = true;
  thread_.join();
}

std::vector<ReloadWatch::Clock::time_point> ReloadWatch::reloads() const {
  std::lock_guard lock(mu_);
  return seen_;
}

std::optional<ReloadWatch::Clock::time_point> ReloadWatch::before(Clock::time_point t) const {
  std::lock_guard lock(mu_);
  std::optional<Clock::time_point> out;
  for (auto r : seen_)
    if (r <= t) out = r;
  return out;
}

void ReloadWatch::loop() {
  static constexpr std::string_view kNeedle = "(SIGHUP) received";
  std::size_t counted = 0;
  while (!stop_) {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    const std::string log = text.str();
    std::size_t n = 0;
    for (auto at = log.find(kNeedle); at != std::string::npos; at = log.find(kNeedle, at + 1)) ++n;
    if (n > counted) {
      std::lock_guard lock(mu_);
      for (; counted < n; ++counted) seen_.push_back(Clock::now());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace certagent::integration
