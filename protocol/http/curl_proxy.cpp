#include "protocol/http/curl_proxy.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cstdlib>
#include <memory>

namespace certagent::protocol {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
struct CurlStringDeleter {
  void operator()(char* s) const noexcept { curl_free(s); }
};

std::string part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(url, which, &raw, flags) != CURLUE_OK || raw == nullptr) return "";
  return std::unique_ptr<char, CurlStringDeleter>(raw).get();
}

}  // namespace

ProxyVariable proxy_from_environment() {
  for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return {value, name};
  }
  return {};
}

std::string no_proxy_from_environment() {
  for (const char* name : {"no_proxy", "NO_PROXY"}) {
    if (const char* value = std::getenv(name); value != nullptr) return value;
  }
  return "";
}

Result<ProxySetting> check_proxy(const std::string& value, const std::string& source) {
  ProxySetting proxy;
  proxy.source = source;
  if (value.empty()) return proxy;
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return fail(ErrorKind::Invalid, "reading the proxy setting: out of memory");
  const auto parsed = curl_url_set(url.get(), CURLUPART_URL, value.c_str(), CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME);
  const std::string host = parsed == CURLUE_OK ? part(url.get(), CURLUPART_HOST) : "";
  if (parsed != CURLUE_OK || host.empty())
    return fail(ErrorKind::Invalid,
                fmt::format("reading the proxy setting ({}): it is not a URL curl can use ({}); the value is not "
                            "shown, as it may hold a password: write reserved characters of the user name and "
                            "password percent-encoded (%2F for /, %23 for #, %40 for @, %3A for :)",
                            source, parsed == CURLUE_OK ? "no host" : curl_url_strerror(parsed)));
  std::string port = part(url.get(), CURLUPART_PORT);  // none: curl's defaults for a proxy
  if (port.empty()) port = part(url.get(), CURLUPART_SCHEME) == "https" ? "443" : "1080";
  proxy.where = fmt::format("{}:{}", host, port);
  for (CURLUPart p : {CURLUPART_USER, CURLUPART_PASSWORD}) {
    for (unsigned flags : {0u, unsigned{CURLU_URLDECODE}}) {
      if (auto secret = part(url.get(), p, flags); !secret.empty()) proxy.secrets.push_back(std::move(secret));
    }
  }
  proxy.url = value;
  return proxy;
}

std::string redact(std::string text, const ProxySetting& proxy) {
  for (const auto& secret : proxy.secrets) {
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
      text.replace(at, secret.size(), "***");
  }
  return text;
}

}  // namespace certagent::protocol
