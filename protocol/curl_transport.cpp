#include "protocol/curl_transport.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <array>
#include <cctype>
#include <fstream>
#include <mutex>
#include <string_view>

#include "common/version.hpp"

namespace certagent::protocol {

namespace {

struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// libcurl's global state, initialised once per process (curl_global_init is
// not thread-safe itself, std::call_once makes it so).
Result<void> init_curl_once() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK)
    return fail(ErrorKind::Transport, fmt::format("initialising libcurl: {}", curl_easy_strerror(rc)));
  return ok();
}

const char* method_name(Method m) {
  switch (m) {
    case Method::Get: return "GET";
    case Method::Head: return "HEAD";
    case Method::Post: return "POST";
  }
  return "?";
}

bool is_retryable(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

// Per-handle state the libcurl callbacks write into.
struct CurlTransport::Impl {
  EasyHandle easy;
  Slist request_headers;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  std::size_t max_body = 0;
  std::size_t max_header = 0;
  // Reset before every request:
  std::string body;
  std::vector<HttpHeader> headers;
  std::size_t header_bytes = 0;
  bool body_over_cap = false;
  bool headers_over_cap = false;

  [[nodiscard]] CURLcode configure(const CurlTransportOptions& o);

  void reset() {
    body.clear();
    headers.clear();
    header_bytes = 0;
    body_over_cap = headers_over_cap = false;
    error_buffer[0] = '\0';
  }

  static size_t on_body(char* data, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    const size_t n = size * count;
    if (self->body.size() + n > self->max_body) {
      self->body_over_cap = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    self->body.append(data, n);
    return n;
  }

  static size_t on_header(char* data, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    const size_t n = size * count;
    self->header_bytes += n;
    if (self->header_bytes > self->max_header) {
      self->headers_over_cap = true;
      return 0;
    }
    self->add_header_line(std::string_view(data, n));
    return n;
  }

  void add_header_line(std::string_view line) {
    if (line.starts_with("HTTP/")) {  // a new response (e.g. after 100 Continue)
      headers.clear();
      return;
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {  // obsolete folding
      if (!headers.empty() && !trim(line).empty()) headers.back().value.append(" ").append(trim(line));
      return;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return;  // the blank line ending the header block
    headers.push_back({std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  }
};

// Applies every option that stays the same for all requests of the handle.
CURLcode CurlTransport::Impl::configure(const CurlTransportOptions& o) {
  CURL* h = easy.get();
  Impl& impl = *this;
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption opt, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, value);
  };
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, "https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!o.trust_file.empty()) {  // this bundle only: no system directory on the side
    set(CURLOPT_CAINFO, o.trust_file.c_str());
    set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  }
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(o.total_timeout.count()));
  set(CURLOPT_LOW_SPEED_LIMIT, o.low_speed_bytes_per_second);
  set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_window.count()));
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_USERAGENT, o.user_agent.c_str());
  set(CURLOPT_ERRORBUFFER, impl.error_buffer.data());
  set(CURLOPT_WRITEFUNCTION, &CurlTransport::Impl::on_body);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&impl));
  set(CURLOPT_HEADERFUNCTION, &CurlTransport::Impl::on_header);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&impl));
  return rc;
}

namespace {

Result<void> check_options(const CurlTransportOptions& o) {
  if (o.max_body_bytes == 0 || o.max_header_bytes == 0)
    return fail(ErrorKind::Invalid, "HTTP transport: the body and header size limits must be positive");
  if (o.connect_timeout.count() <= 0 || o.total_timeout.count() <= 0 || o.low_speed_window.count() <= 0)
    return fail(ErrorKind::Invalid, "HTTP transport: the timeouts must be positive");
  if (!o.trust_file.empty() && !std::ifstream(o.trust_file).good())
    return fail(ErrorKind::Invalid, fmt::format("reading the trust bundle {}: cannot open the file", o.trust_file));
  return ok();
}

}  // namespace

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(CurlTransportOptions options) {
  if (auto checked = check_options(options); !checked) return std::unexpected(checked.error());
  if (auto init = init_curl_once(); !init) return std::unexpected(init.error());
  if (options.user_agent.empty()) options.user_agent = std::string("certagent/") + kVersion;

  auto impl = std::make_unique<Impl>();
  impl->easy.reset(curl_easy_init());
  if (!impl->easy) return fail(ErrorKind::Transport, "creating a libcurl handle failed");
  impl->max_body = options.max_body_bytes;
  impl->max_header = options.max_header_bytes;
  if (CURLcode rc = impl->configure(options); rc != CURLE_OK)
    return fail(ErrorKind::Transport, fmt::format("configuring libcurl: {}", curl_easy_strerror(rc)));
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(options), std::move(impl)));
}

CurlTransport::CurlTransport(CurlTransportOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}

CurlTransport::~CurlTransport() = default;

Result<void> CurlTransport::prepare(const HttpRequest& request) {
  CURL* h = impl_->easy.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption opt, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, value);
  };
  Slist headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* head = headers.release();
    curl_slist* next = curl_slist_append(head, line.c_str());
    headers.reset(next != nullptr ? next : head);
    if (next == nullptr) rc = CURLE_OUT_OF_MEMORY;
  };
  if (!request.content_type.empty()) add_header("Content-Type: " + request.content_type);
  for (const auto& hdr : request.headers) add_header(hdr.name + ": " + hdr.value);
  add_header("Expect:");  // no 100-continue round trip for POST bodies

  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_HTTPHEADER, headers.get());
  set(CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
  switch (request.method) {
    case Method::Get: set(CURLOPT_HTTPGET, 1L); break;
    case Method::Head: set(CURLOPT_NOBODY, 1L); break;
    case Method::Post:
      set(CURLOPT_NOBODY, 0L);
      set(CURLOPT_POST, 1L);
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      set(CURLOPT_COPYPOSTFIELDS, request.body.c_str());
      break;
  }
  // Refuse a declared oversize body early; HEAD answers carry no body.
  const auto max = request.method == Method::Head ? 0 : static_cast<curl_off_t>(impl_->max_body);
  set(CURLOPT_MAXFILESIZE_LARGE, max);
  if (rc != CURLE_OK)
    return fail(ErrorKind::Transport, fmt::format("preparing {} {}: {}", method_name(request.method), request.url,
                                                  curl_easy_strerror(rc)));
  impl_->request_headers = std::move(headers);  // must outlive the transfer
  return ok();
}

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
  if (!is_https_url(request.url))
    return fail(ErrorKind::Invalid,
                fmt::format("refusing {} {}: only https:// URLs are allowed (the CA must be reached over TLS)",
                            method_name(request.method), request.url));
  if (auto prepared = prepare(request); !prepared) return std::unexpected(prepared.error());
  return perform(request);
}

Result<HttpResponse> CurlTransport::perform(const HttpRequest& request) {
  CURL* h = impl_->easy.get();
  impl_->reset();
  ++requests_sent_;
  const CURLcode rc = curl_easy_perform(h);
  long connects = 0;
  if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
    connections_opened_ += static_cast<std::uint64_t>(connects);

  const std::string what = fmt::format("{} {}", method_name(request.method), request.url);
  if (impl_->body_over_cap || rc == CURLE_FILESIZE_EXCEEDED)
    return fail(ErrorKind::Transport,
                fmt::format("{}: the response body exceeds the limit of {} bytes", what, impl_->max_body));
  if (impl_->headers_over_cap)
    return fail(ErrorKind::Transport,
                fmt::format("{}: the response headers exceed the limit of {} bytes", what, impl_->max_header));
  if (rc != CURLE_OK) {
    std::string detail = impl_->error_buffer[0] != '\0' ? impl_->error_buffer.data() : curl_easy_strerror(rc);
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
      detail += " (TLS verification failed: is the CA's root in the trust bundle?)";
    return fail(ErrorKind::Transport, fmt::format("{}: {} (curl error {})", what, detail, static_cast<int>(rc)),
                is_retryable(rc));
  }
  HttpResponse response;
  long status = 0;
  if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status == 0)
    return fail(ErrorKind::Transport, fmt::format("{}: no HTTP status in the response", what), true);
  response.status = static_cast<int>(status);
  response.headers = std::move(impl_->headers);
  response.body = std::move(impl_->body);
  return response;
}

}  // namespace certagent::protocol
