#include "protocol/http/proxy.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <utility>

#include "protocol/x509/base64.hpp"
#include "protocol/http/tcp_connect.hpp"

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

// The first of `names` set and not empty: {value, name}; {"", ""} when none is.
std::pair<std::string, std::string> first_set(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return {v, name};
  return {};
}

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {};
  [[nodiscard]] unsigned bits() const { return family == AF_INET ? 32 : 128; }
};

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.starts_with("[") && text.ends_with("]")) text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  IpAddress ip;
  if (::inet_pton(AF_INET, s.c_str(), ip.bytes) == 1) {
    ip.family = AF_INET;
  } else if (::inet_pton(AF_INET6, s.c_str(), ip.bytes) == 1) {
    ip.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  return ip;
}

// True when the first `prefix` bits of a and b are equal (same family).
bool same_prefix(const IpAddress& a, const IpAddress& b, unsigned prefix) {
  if (a.family != b.family) return false;
  for (unsigned i = 0; i < prefix / 8; ++i)
    if (a.bytes[i] != b.bytes[i]) return false;
  if (prefix % 8 == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFFu << (8 - prefix % 8));
  return (a.bytes[prefix / 8] & mask) == (b.bytes[prefix / 8] & mask);
}

struct CidrRange {
  IpAddress base;
  unsigned prefix = 0;
};

// "10.0.0.0/8", "fd00::/8", "[fd00::]/8"; nullopt when any part is off.
std::optional<CidrRange> parse_cidr(std::string_view entry) {
  const auto slash = entry.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto base = parse_ip(entry.substr(0, slash));
  const std::string_view length = entry.substr(slash + 1);
  unsigned prefix = 0;
  auto [p, ec] = std::from_chars(length.data(), length.data() + length.size(), prefix);
  if (!base || length.empty() || ec != std::errc{} || p != length.data() + length.size() || prefix > base->bits())
    return std::nullopt;
  return CidrRange{*base, prefix};
}

enum class EntryKind { Skip, Wildcard, Range, Address, Name, Malformed };

EntryKind classify(std::string_view entry) {
  if (entry.empty()) return EntryKind::Skip;
  if (entry == "*") return EntryKind::Wildcard;
  if (entry.find('/') != std::string_view::npos)
    return parse_cidr(entry) ? EntryKind::Range : EntryKind::Malformed;
  if (entry.find('*') != std::string_view::npos) return EntryKind::Malformed;
  return parse_ip(entry) ? EntryKind::Address : EntryKind::Name;
}

// Calls f(entry) for every entry of the list (separated by commas and/or
// blanks, as curl splits it) until f returns true.
template <typename F>
bool any_entry(std::string_view list, F f) {
  constexpr std::string_view kSeparators = ", \t\r\n";
  while (!list.empty()) {
    const auto end = list.find_first_of(kSeparators);
    const std::string_view entry = list.substr(0, end);
    list.remove_prefix(end == std::string_view::npos ? list.size() : end + 1);
    if (f(entry)) return true;
  }
  return false;
}

bool matches_name(std::string_view entry, std::string_view host) {
  if (entry.starts_with(".")) entry.remove_prefix(1);
  while (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
  if (entry.empty()) return false;
  if (iequals(entry, host)) return true;
  return host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
         iequals(host.substr(host.size() - entry.size()), entry);
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
  const std::optional<IpAddress> ip = parse_ip(host);
  return any_entry(no_proxy, [&](std::string_view entry) {
    switch (classify(entry)) {
      case EntryKind::Wildcard:
        return true;
      case EntryKind::Range: {
        const auto range = parse_cidr(entry);
        return ip.has_value() && same_prefix(range->base, *ip, range->prefix);
      }
      case EntryKind::Address: {
        const auto address = parse_ip(entry);
        return ip.has_value() && same_prefix(*address, *ip, address->bits());
      }
      case EntryKind::Name:
        return !ip && matches_name(entry, host);
      case EntryKind::Skip:
      case EntryKind::Malformed:
        return false;
    }
    return false;
  });
}

std::vector<std::string> ignored_no_proxy_entries(std::string_view no_proxy) {
  std::vector<std::string> ignored;
  (void)any_entry(no_proxy, [&](std::string_view entry) {
    if (classify(entry) == EntryKind::Malformed) ignored.emplace_back(entry);
    return false;
  });
  return ignored;
}

ProxyEnvironment proxy_environment() {
  auto [proxy, variable] = first_set({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
  return {std::move(proxy), first_set({"no_proxy", "NO_PROXY"}).first, std::move(variable)};
}

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
