#include "agent/engine/solver.hpp"

#include <charconv>

#include "protocol/acme/dns01_hook_solver.hpp"
#include "protocol/acme/webroot_solver.hpp"

namespace certagent::agent {

Result<protocol::Http01ResponderOptions> parse_listen(const std::string& listen) {
  const std::string what = "the http-01 listen address \"" + listen + "\"";
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return fail(ErrorKind::Invalid, what + " needs a port (HOST:PORT or :PORT)");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return fail(ErrorKind::Invalid, what + ": the port must be 1 to 65535");
  protocol::Http01ResponderOptions options;
  options.address = host.empty() ? "0.0.0.0" : host;
  options.port = static_cast<std::uint16_t>(port);
  return options;
}

Result<std::unique_ptr<protocol::ChallengeSolver>> start_solver(const policy::Challenge& challenge,
                                                                const std::atomic<bool>* cancel) {
  if (challenge.type == policy::Challenge::Type::Dns01) {
    protocol::Dns01HookOptions options;
    options.hook = challenge.dns_hook;
    options.cancel = cancel;
    return std::make_unique<protocol::Dns01HookSolver>(std::move(options));
  }
  if (challenge.webroot) return std::make_unique<protocol::WebrootSolver>(*challenge.webroot);
  auto options = parse_listen(challenge.listen);
  if (!options) return std::unexpected(options.error());
  auto responder = std::make_unique<protocol::Http01Responder>(*options);
  if (auto started = responder->start(); !started)
    return std::unexpected(started.error().context("starting the http-01 responder on " + challenge.listen));
  return responder;
}

}  // namespace certagent::agent
