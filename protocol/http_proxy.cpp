#include "protocol/http_proxy.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "protocol/base64.hpp"
#include "protocol/tcp_connect.hpp"

namespace certagent::protocol {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string env(const char* lower, const char* upper) {
  const char* v = std::getenv(lower);
  if (v == nullptr || *v == '\0') v = std::getenv(upper);
  return v != nullptr ? std::string(v) : std::string();
}

bool is_ip_literal(std::string_view host) {
  unsigned char buf[16];
  const std::string h(host);
  return ::inet_pton(AF_INET, h.c_str(), buf) == 1 || ::inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

}  // namespace

std::string ProxyConfig::where() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

Result<std::optional<ProxyConfig>> parse_proxy_url(std::string_view url) {
  url = trim(url);
  if (url.empty()) return std::optional<ProxyConfig>{};
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    if (!iequals(url.substr(0, scheme), "http"))
      return fail(ErrorKind::Invalid, fmt::format("proxy scheme {}:// is not supported (only http:// proxies)",
                                                  url.substr(0, std::min<std::size_t>(scheme, 16))));
    url.remove_prefix(scheme + 3);
  }
  url = url.substr(0, url.find_first_of("/?#"));
  ProxyConfig proxy;
  if (auto at = url.rfind('@'); at != std::string_view::npos) {
    proxy.credentials = percent_decode(url.substr(0, at));
    url.remove_prefix(at + 1);
  }
  std::string_view port;
  if (url.starts_with("[")) {
    auto close = url.find(']');
    if (close == std::string_view::npos) return fail(ErrorKind::Invalid, "proxy URL: unclosed [ in the host");
    proxy.host = std::string(url.substr(1, close - 1));
    if (close + 1 < url.size() && url[close + 1] == ':') port = url.substr(close + 2);
  } else {
    auto colon = url.rfind(':');
    proxy.host = std::string(url.substr(0, colon));
    if (colon != std::string_view::npos) port = url.substr(colon + 1);
  }
  if (proxy.host.empty()) return fail(ErrorKind::Invalid, "proxy URL: no host");
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535)
      return fail(ErrorKind::Invalid, fmt::format("proxy URL: bad port '{}'", port.substr(0, 16)));
    proxy.port = static_cast<std::uint16_t>(value);
  }
  return std::optional<ProxyConfig>{std::move(proxy)};
}

bool bypasses_proxy(std::string_view no_proxy, std::string_view host) {
  if (host.starts_with("[") && host.ends_with("]")) host = host.substr(1, host.size() - 2);
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const bool ip = is_ip_literal(host);
  while (!no_proxy.empty()) {
    auto comma = no_proxy.find(',');
    std::string_view entry = trim(no_proxy.substr(0, comma));
    no_proxy.remove_prefix(comma == std::string_view::npos ? no_proxy.size() : comma + 1);
    if (entry == "*") return true;
    if (entry.starts_with("[") && entry.find(']') != std::string_view::npos)
      entry = entry.substr(1, entry.find(']') - 1);
    if (entry.starts_with(".")) entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
    if (entry.empty()) continue;
    if (iequals(entry, host)) return true;
    if (!ip && host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
        iequals(host.substr(host.size() - entry.size()), entry))
      return true;
  }
  return false;
}

ProxyEnvironment proxy_environment() { return {env("https_proxy", "HTTPS_PROXY"), env("no_proxy", "NO_PROXY")}; }

Result<void> open_tunnel(int fd, const ProxyConfig& proxy, const UrlParts& target, std::string_view user_agent,
                         std::size_t max_header_bytes, IoBudget& budget) {
  const std::string to = target.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", target.host, target.port)
                                                                      : fmt::format("{}:{}", target.host, target.port);
  std::string request = fmt::format("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\nUser-Agent: {1}\r\n", to, user_agent);
  if (!proxy.credentials.empty())
    request += fmt::format("Proxy-Authorization: Basic {}\r\n", base64_encode(proxy.credentials));
  request += "\r\n";
  const std::string what = fmt::format("asking the proxy {} for a tunnel to {}", proxy.where(), to);
  if (auto sent = send_all(fd, request, budget); !sent) return std::unexpected(sent.error().context(what));
  ResponseParser parser(/*head_request=*/true, max_header_bytes, 0);
  std::string in;
  while (!parser.done()) {
    auto n = recv_some(fd, in, 4096, budget);
    if (!n) return std::unexpected(n.error().context(what));
    if (*n == 0) return fail(ErrorKind::Transport, what + ": the proxy closed the connection", true);
    if (auto fed = parser.feed(in); !fed) return std::unexpected(fed.error().context(what));
  }
  if (!in.empty()) return fail(ErrorKind::Transport, what + ": the proxy sent data before the TLS handshake");
  const int status = parser.take().status;
  if (status >= 200 && status < 300) return ok();
  return fail(ErrorKind::Transport, fmt::format("{}: the proxy refused with HTTP {}", what, status),
              status != 403 && status != 407);
}

}  // namespace certagent::protocol
