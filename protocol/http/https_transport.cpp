#include "protocol/http/https_transport.hpp"

#include <fmt/format.h>

#include <fmt/ranges.h>

#include <fstream>
#include <mutex>

#include "common/version.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/http/proxy.hpp"
#include "protocol/http/wire.hpp"
#include "protocol/http/io_budget.hpp"
#include "protocol/http/tls_stream.hpp"

namespace certagent::protocol {

struct HttpsTransport::Impl {
  ossl::SslCtx ctx;
  std::optional<ProxyConfig> proxy;
  std::string no_proxy;
  std::unique_ptr<TlsStream> stream;  // the kept-alive connection, if any
  std::string endpoint;               // host:port it goes to

  // Why a round trip failed, for the decision to send a GET once more.
  struct Outcome {
    bool answered = false;  // some byte of the answer arrived
    bool dropped = false;   // the peer went away (not our timeout or cancel)
  };

  [[nodiscard]] Result<void> connect(const HttpsTransportOptions& o, const UrlParts& url, IoBudget& budget);
  [[nodiscard]] Result<HttpResponse> round_trip(const HttpsTransportOptions& o, const HttpRequest& request,
                                                const UrlParts& url, IoBudget& budget, Outcome& outcome);
  [[nodiscard]] Result<HttpResponse> read_response(const HttpsTransportOptions& o, bool head, IoBudget& budget,
                                                   Outcome& outcome);
};

Result<void> HttpsTransport::Impl::connect(const HttpsTransportOptions& o, const UrlParts& url, IoBudget& budget) {
  stream.reset();
  const bool via_proxy = proxy && !bypasses_proxy(no_proxy, url.host);
  const std::string target = fmt::format("{}:{}", url.host, url.port);
  const std::string what =
      via_proxy ? fmt::format("connecting to the proxy {} for {}", proxy->where(), target) : "connecting to " + target;
  IoBudget phase = budget.narrowed(o.connect_timeout, what);
  auto socket = via_proxy ? tcp_connect(proxy->host, proxy->port, phase) : tcp_connect(url.host, url.port, phase);
  if (!socket) return std::unexpected(phase.spent() ? socket.error() : socket.error().context(what));
  if (via_proxy) {
    if (auto tunnel = open_tunnel(socket->fd(), *proxy, url, o.user_agent, o.max_header_bytes, phase); !tunnel)
      return tunnel;
  }
  auto tls = TlsStream::handshake(ctx.get(), std::move(*socket), url.host, phase);
  if (!tls) return std::unexpected(tls.error());
  stream = std::move(*tls);
  endpoint = target;
  return ok();
}

Result<HttpResponse> HttpsTransport::Impl::round_trip(const HttpsTransportOptions& o, const HttpRequest& request,
                                                      const UrlParts& url, IoBudget& budget, Outcome& outcome) {
  // The low-speed window starts here, after connect() (bounded by connect_timeout alone, handshake included).
  budget.watch_speed(o.low_speed_bytes_per_second, o.low_speed_window);
  if (auto sent = stream->write_all(serialize_request(request, url, o.user_agent), budget); !sent) {
    outcome.dropped = !budget.spent();
    return std::unexpected(sent.error());
  }
  return read_response(o, request.method == Method::Head, budget, outcome);
}

Result<HttpResponse> HttpsTransport::Impl::read_response(const HttpsTransportOptions& o, bool head,
                                                         IoBudget& budget, Outcome& outcome) {
  ResponseParser parser(head, o.max_header_bytes, o.max_body_bytes);
  std::string in;
  for (;;) {
    auto n = stream->read_some(in, budget);
    if (!n) {
      outcome.dropped = !budget.spent();
      return std::unexpected(n.error());
    }
    if (*n == 0) {
      outcome.dropped = true;
      if (!parser.started())
        return fail(ErrorKind::Transport, "the server closed the connection without answering", true);
      if (auto end = parser.finish_at_close(); !end) return std::unexpected(end.error());
      stream.reset();
      return parser.take();
    }
    outcome.answered = true;
    if (auto fed = parser.feed(in); !fed) return std::unexpected(fed.error());
    if (parser.done()) break;
  }
  if (!parser.keep_alive() || !in.empty()) stream.reset();  // closing, or bytes nobody asked for
  return parser.take();
}

namespace {

Result<void> check_options(const HttpsTransportOptions& o) {
  if (o.max_body_bytes == 0 || o.max_header_bytes == 0)
    return fail(ErrorKind::Invalid, "HTTP transport: the body and header size limits must be positive");
  if (o.connect_timeout.count() <= 0 || o.total_timeout.count() <= 0 || o.low_speed_window.count() <= 0)
    return fail(ErrorKind::Invalid, "HTTP transport: the timeouts must be positive");
  if (!o.trust_file.empty() && !std::ifstream(o.trust_file).good())
    return fail(ErrorKind::Invalid, fmt::format("reading the trust bundle {}: cannot open the file", o.trust_file));
  return ok();
}

// Says once per process and no_proxy value (transports are made per flow)
// which entries bypasses_proxy ignores.
void warn_ignored_no_proxy_entries(const std::string& no_proxy) {
  static std::mutex mutex;
  static std::string warned_for;
  const auto ignored = ignored_no_proxy_entries(no_proxy);
  if (ignored.empty()) return;
  const std::lock_guard lock(mutex);
  if (warned_for == no_proxy) return;
  warned_for = no_proxy;
  acme_log().warn("no_proxy: ignoring malformed entr{} {} (expected a host, .domain, IP address, CIDR range or *)",
                  ignored.size() == 1 ? "y" : "ies", fmt::join(ignored, ", "));
}

}  // namespace

Result<std::unique_ptr<HttpsTransport>> HttpsTransport::create(HttpsTransportOptions options) {
  if (auto checked = check_options(options); !checked) return std::unexpected(checked.error());
  if (options.user_agent.empty()) options.user_agent = std::string("certagent/") + kVersion;
  auto impl = std::make_unique<Impl>();
  std::string proxy_source = "the transport's proxy option";
  if (!options.proxy || !options.no_proxy) {
    const ProxyEnvironment env = proxy_environment();
    if (!options.proxy) {
      options.proxy = env.proxy;
      proxy_source = env.proxy_variable;
    }
    if (!options.no_proxy) options.no_proxy = env.no_proxy;
  }
  auto proxy = parse_proxy_url(*options.proxy);
  if (!proxy) return std::unexpected(proxy.error().context(fmt::format("reading the proxy setting ({})", proxy_source)));
  impl->proxy = std::move(*proxy);
  impl->no_proxy = *options.no_proxy;
  warn_ignored_no_proxy_entries(impl->no_proxy);
  auto ctx = new_client_context(options.trust_file);
  if (!ctx) return std::unexpected(ctx.error());
  impl->ctx = std::move(*ctx);
  return std::unique_ptr<HttpsTransport>(new HttpsTransport(std::move(options), std::move(impl)));
}

HttpsTransport::HttpsTransport(HttpsTransportOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}

HttpsTransport::~HttpsTransport() = default;

Result<HttpResponse> HttpsTransport::send(const HttpRequest& request) {
  const std::string what = fmt::format("{} {}", method_name(request.method), request.url);
  auto url = is_https_url(request.url) ? split_https_url(request.url) : fail(ErrorKind::Invalid, "");
  if (!url)
    return fail(ErrorKind::Invalid,
                fmt::format("refusing {}: only https:// URLs are allowed (the CA must be reached over TLS)", what));
  ++requests_sent_;
  IoBudget budget(options_.total_timeout, options_.cancel, "");
  Impl& impl = *impl_;
  const std::string endpoint = fmt::format("{}:{}", url->host, url->port);
  if (impl.stream && (impl.endpoint != endpoint || !impl.stream->idle_and_open())) impl.stream.reset();
  const bool reused = impl.stream != nullptr;
  Result<HttpResponse> response = fail(ErrorKind::Transport, "no attempt");
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl.stream) {
      if (auto opened = impl.connect(options_, *url, budget); !opened) {
        response = std::unexpected(opened.error());
        break;
      }
      ++connections_opened_;
    }
    Impl::Outcome outcome;
    response = impl.round_trip(options_, request, *url, budget, outcome);
    if (response) return response;
    impl.stream.reset();
    // Only a reused connection that dropped before any answer, and never a POST.
    if (!reused || attempt > 0 || outcome.answered || !outcome.dropped || request.method == Method::Post) break;
  }
  return std::unexpected(std::move(response.error()).context(what));
}

}  // namespace certagent::protocol
