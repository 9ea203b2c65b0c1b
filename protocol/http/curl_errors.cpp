#include "protocol/http/curl_errors.hpp"

#include <fmt/format.h>

#include "common/escape.hpp"

namespace certagent::protocol {
namespace {

// curl's text, or its generic one for the code; never the proxy's credentials.
std::string curl_words(const TransferFacts& f) {
  const std::string text = f.curl_text.empty() ? curl_easy_strerror(f.code) : f.curl_text;
  return escape_control(redact(text, f.proxy), 600);
}

Error transport(std::string message, bool retryable) {
  return Error(ErrorKind::Transport, std::move(message), retryable);
}

// Which end a connect-phase failure was about: the proxy when curl names it.
std::string peer(const TransferFacts& f, const std::string& host) {
  if (f.proxy.where.empty()) return host;
  const auto colon = f.proxy.where.rfind(':');
  const std::string proxy_host = f.proxy.where.substr(0, colon);
  const std::string named = fmt::format("{} port {}", proxy_host, f.proxy.where.substr(colon + 1));
  if (f.curl_text.find(named) != std::string::npos || f.code == CURLE_COULDNT_RESOLVE_PROXY)
    return fmt::format("the proxy {} for {}", f.proxy.where, host);
  return host;
}

Error timeout_error(const TransferFacts& f, const CurlTransportOptions& o, const std::string& host) {
  if (f.curl_text.find("too slow") != std::string::npos)
    return transport(fmt::format("the transfer from {} was too slow: fewer than {} bytes a second over {} s",
                                 host, o.low_speed_bytes_per_second, o.low_speed_window.count()),
                     true);
  if (!f.connected) {
    const auto bound = std::min(o.connect_timeout, o.total_timeout);
    return transport(fmt::format("connecting to {} timed out after {} ms", peer(f, host), bound.count()), true);
  }
  return transport(fmt::format("the exchange with {} timed out after {} ms in all", host, o.total_timeout.count()),
                   true);
}

}  // namespace

std::string authority_of(const std::string& url) {
  const auto start = url.find("://") + 3;
  return url.substr(start, url.find_first_of("/?#", start) - start);
}

Error transfer_error(const TransferFacts& f, const CurlTransportOptions& o) {
  const std::string host = authority_of(f.url);
  if (f.flags.body_over || f.code == CURLE_FILESIZE_EXCEEDED)
    return transport(fmt::format("the response body exceeds the limit of {} bytes", o.max_body_bytes), false);
  if (f.flags.header_over)
    return transport(fmt::format("the response headers exceed the limit of {} bytes", o.max_header_bytes), false);
  if (f.proxy_status >= 300)
    return transport(fmt::format("the proxy {} refused the tunnel to {} with HTTP {}", f.proxy.where, host,
                                 f.proxy_status),
                     f.proxy_status != 403 && f.proxy_status != 407);
  const std::string words = curl_words(f);
  switch (f.code) {
    case CURLE_OPERATION_TIMEDOUT: return timeout_error(f, o, host);
    case CURLE_COULDNT_RESOLVE_HOST: return transport(fmt::format("resolving {}: {}", host, words), true);
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: return transport(fmt::format("connecting to {}: {}", peer(f, host), words), true);
    case CURLE_PEER_FAILED_VERIFICATION:
      return transport(fmt::format("TLS verification failed for {}: {}", host, words), false);
    case CURLE_SSL_CACERT_BADFILE:
      return Error(ErrorKind::Invalid, fmt::format("reading the trust bundle: {}", words));
    case CURLE_SSL_CONNECT_ERROR:
      return transport(fmt::format("the TLS handshake with {} failed: {}", peer(f, host), words), true);
    case CURLE_GOT_NOTHING:
      return transport(fmt::format("{} closed the connection without answering ({})", host, words), true);
    case CURLE_SEND_FAIL_REWIND:  // our seek callback refused: the POST already went out once
      return transport(fmt::format("{} closed the connection without answering; the POST is not sent twice", host),
                       true);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return transport(fmt::format("the connection to {} broke: {}", host, words), true);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return Error(ErrorKind::Invalid, fmt::format("the URL was refused: {}", words));
    default: return transport(fmt::format("the exchange with {} failed: {}", host, words), false);
  }
}

}  // namespace certagent::protocol
