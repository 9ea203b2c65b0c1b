#include "common/host_port.hpp"

#include <charconv>

namespace certagent {

Result<HostPort> parse_host_port(std::string_view text) {
  constexpr std::string_view forms = "write HOST:PORT, :PORT or [IPv6]:PORT";
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail(ErrorKind::Invalid, "no port; " + std::string(forms));
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find_first_of(":[]") != std::string_view::npos) {
    return fail(ErrorKind::Invalid, "an IPv6 address needs brackets; " + std::string(forms));
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return fail(ErrorKind::Invalid, "the port must be a number from 0 to 65535");
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace certagent
