#pragma once
// The HTTP seam of the ACME client. The real implementation (libcurl) lives
// in curl_transport.{hpp,cpp}; unit tests replay recorded exchanges through a fake.
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace certagent::protocol {

enum class Method { Get, Head, Post };

struct HttpHeader {
  std::string name;   // as received; compare case-insensitively
  std::string value;
};

struct HttpRequest {
  Method method = Method::Get;
  std::string url;
  std::string content_type;  // e.g. "application/jose+json" for POST
  std::string body;
  std::vector<HttpHeader> headers;  // extra request headers
};

struct HttpResponse {
  int status = 0;
  std::vector<HttpHeader> headers;
  std::string body;

  // First header with this name (case-insensitive), if any.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  // Every header with this name, in order (e.g. several Link headers).
  [[nodiscard]] std::vector<std::string> headers_named(std::string_view name) const;
};

// One HTTP client for one flow. Implementations keep one connection alive
// across requests, verify TLS, refuse non-https URLs (unless built for tests
// with plain HTTP explicitly allowed), cap the body size and bound the time.
class Transport {
 public:
  virtual ~Transport() = default;
  [[nodiscard]] virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

[[nodiscard]] bool iequals(std::string_view a, std::string_view b);

// True for an absolute https:// URL with a host, no userinfo, at most 4096
// visible characters and none of <>"\{}|^`. Everything the CA hands us to
// follow (directory entries, Location, Link) must pass this.
[[nodiscard]] bool is_https_url(std::string_view url);

}  // namespace certagent::protocol
