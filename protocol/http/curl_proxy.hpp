#pragma once
// The proxy setting of a CurlTransport, read as curl reads it, checked before
// curl sees it (so that curl never echoes a malformed setting, credentials
// included, in an error), and what must never appear in a message.
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace certagent::protocol {

struct ProxySetting {
  std::string url;       // for CURLOPT_PROXY; "" : no proxy
  std::string where;     // "host:port" for messages (never the credentials); "" : no proxy
  std::string source;    // the variable or option it came from, for messages
  std::vector<std::string> secrets;  // user and password, as written and decoded
};

// The first of https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY that is set and
// not empty (curl's order for https URLs; http_proxy is for http:// URLs), and
// its name; {"", ""} when none is.
struct ProxyVariable {
  std::string value;
  std::string name;
};
[[nodiscard]] ProxyVariable proxy_from_environment();
// no_proxy, else NO_PROXY; "" when neither is set.
[[nodiscard]] std::string no_proxy_from_environment();

// Checks `value` with curl's URL parser as curl reads a proxy (a URL without
// a scheme is http://). Invalid, naming `source` but never the value, when
// curl could not use it.
[[nodiscard]] Result<ProxySetting> check_proxy(const std::string& value, const std::string& source);

// `text` with every secret of `proxy` replaced by "***".
[[nodiscard]] std::string redact(std::string text, const ProxySetting& proxy);

}  // namespace certagent::protocol
