#pragma once
// libcurl's outcome of a failed transfer as the typed Error: what failed (with
// the host, or the proxy), curl's words escaped and with the proxy's
// credentials taken out, and whether trying again may help.
#include <curl/curl.h>

#include <string>

#include "common/error.hpp"
#include "protocol/http/curl_proxy.hpp"
#include "protocol/http/curl_transport.hpp"

namespace certagent::protocol {

// What the transfer's callbacks refused.
struct TransferFlags {
  bool body_over = false;    // the body passed max_body_bytes
  bool header_over = false;  // the headers passed max_header_bytes
};

struct TransferFacts {
  CURLcode code = CURLE_OK;
  std::string curl_text;  // curl's error buffer (may be empty)
  TransferFlags flags;
  std::string url;
  const ProxySetting& proxy;
  long proxy_status = 0;   // the proxy's answer to CONNECT, 0 when none
  bool connected = false;  // a connection was ready for the request
};

// "host:port" as an https URL writes it (the URL passed is_https_url).
[[nodiscard]] std::string authority_of(const std::string& url);

[[nodiscard]] Error transfer_error(const TransferFacts& facts, const CurlTransportOptions& options);

}  // namespace certagent::protocol
