#include "protocol/http/curl_transport.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/escape.hpp"
#include "common/version.hpp"
#include "protocol/http/curl_errors.hpp"
#include "protocol/http/curl_proxy.hpp"
#include "protocol/x509/ossl.hpp"

namespace certagent::protocol {
namespace {

constexpr int kPollMs = 50;  // how often a transfer in flight looks at the cancel flag

struct EasyDeleter {
  void operator()(CURL* e) const noexcept { curl_easy_cleanup(e); }
};
struct MultiDeleter {
  void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using List = std::unique_ptr<curl_slist, ListDeleter>;

// libcurl 7.88 takes a TCP close without a TLS close_notify for the end of a
// body framed by the end of the connection: anyone on the path could cut such
// a body short, unnoticed. So the transport watches for the alert itself: the
// TLS connections (SSL*) that received a close_notify during this thread's
// transfer (curl drives them all on the calling thread).
thread_local std::vector<const SSL*> t_close_notified;

void on_tls_info(const SSL* ssl, int where, int alert) {
  if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT && (alert & 0xff) == SSL_AD_CLOSE_NOTIFY) t_close_notified.push_back(ssl);
}

CURLcode on_ssl_context(CURL* /*easy*/, void* ssl_ctx, void* /*user*/) {
  SSL_CTX_set_info_callback(static_cast<SSL_CTX*>(ssl_ctx), on_tls_info);
  return CURLE_OK;
}

// The TLS connection a transfer runs on; null before it has one, or without TLS.
const SSL* tls_of(CURL* easy) {
  curl_tlssessioninfo* info = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == nullptr ||
      info->backend != CURLSSLBACKEND_OPENSSL)
    return nullptr;
  return static_cast<const SSL*>(info->internals);
}

// HTTP/1.x answers whose body ends with the connection (RFC 9112 §6.3, item 8).
bool framed_by_close(const HttpResponse& r, Method method, long http_version) {
  if (method == Method::Head || r.status < 200 || r.status == 204 || r.status == 304) return false;
  if (http_version != CURL_HTTP_VERSION_1_0 && http_version != CURL_HTTP_VERSION_1_1) return false;
  return !r.header("Content-Length") && !r.header("Transfer-Encoding");
}

// What the callbacks of one transfer read and collect.
struct Exchange {
  const CurlTransportOptions* options = nullptr;
  CURL* easy = nullptr;
  const SSL* tls = nullptr;  // the connection the answer came on
  HttpResponse response;
  std::size_t header_bytes = 0;
  TransferFlags flags;
  std::string_view upload;
  std::size_t uploaded = 0;
};

size_t on_body(char* data, size_t /*one*/, size_t n, void* user) {
  auto& x = *static_cast<Exchange*>(user);
  if (x.response.body.size() + n > x.options->max_body_bytes) {
    x.flags.body_over = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  x.response.body.append(data, n);
  return n;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// One header line (status lines and the blank line included).
size_t on_header(char* data, size_t /*one*/, size_t n, void* user) {
  auto& x = *static_cast<Exchange*>(user);
  x.header_bytes += n;
  if (x.header_bytes > x.options->max_header_bytes) {
    x.flags.header_over = true;
    return 0;
  }
  const std::string_view line = trim(std::string_view(data, n));
  if (x.tls == nullptr) x.tls = tls_of(x.easy);
  if (line.starts_with("HTTP/")) {
    x.response.headers.clear();  // a new response (after a 1xx): its headers only
    return n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0)
    x.response.headers.push_back({std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
  return n;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto& x = *static_cast<Exchange*>(user);
  const size_t n = std::min(size * count, x.upload.size() - x.uploaded);
  std::memcpy(buffer, x.upload.data() + x.uploaded, n);
  x.uploaded += n;
  return n;
}

// curl rewinds a POST body to send it again on a new connection; refuse once
// any of it went out (the server may have acted on it).
int on_seek(void* user, curl_off_t offset, int origin) {
  const auto& x = *static_cast<Exchange*>(user);
  return offset == 0 && origin == SEEK_SET && x.uploaded == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

Result<void> check_options(const CurlTransportOptions& o) {
  if (o.max_body_bytes == 0 || o.max_header_bytes == 0)
    return fail(ErrorKind::Invalid, "HTTP transport: the body and header size limits must be positive");
  if (o.connect_timeout.count() <= 0 || o.total_timeout.count() <= 0 || o.low_speed_window.count() <= 0)
    return fail(ErrorKind::Invalid, "HTTP transport: the timeouts must be positive");
  if (o.trust_file.empty()) return ok();
  ossl::X509Store store(X509_STORE_new());
  if (!store || X509_STORE_load_file(store.get(), o.trust_file.c_str()) != 1)
    return fail(ErrorKind::Invalid, fmt::format("reading the trust bundle {}: {}", escape_control(o.trust_file, 300),
                                                ossl::drain_errors()));
  return ok();
}

const char* method_name(Method m) {
  switch (m) {
    case Method::Get: return "GET";
    case Method::Head: return "HEAD";
    case Method::Post: return "POST";
  }
  return "GET";
}

}  // namespace

struct CurlTransport::Impl {
  std::unique_ptr<CURLM, MultiDeleter> multi;  // holds the kept-alive connection
  std::unique_ptr<CURL, EasyDeleter> easy;
  ProxySetting proxy;
  std::string no_proxy;
  std::string ca_file;  // "" : none
  std::string ca_dir;   // "" : none
  char error_text[CURL_ERROR_SIZE] = {};

  [[nodiscard]] CURLcode configure(const CurlTransportOptions& o, const HttpRequest& request, Exchange& x,
                                   const curl_slist* headers);
  // Drives the transfer; nullopt when `cancel` became true first.
  [[nodiscard]] std::optional<CURLcode> perform(const std::atomic<bool>* cancel);
};

CURLcode CurlTransport::Impl::configure(const CurlTransportOptions& o, const HttpRequest& request, Exchange& x,
                                        const curl_slist* headers) {
  CURL* e = easy.get();
  curl_easy_reset(e);  // keeps the connection, which lives in the multi handle
  CURLcode rc = CURLE_OK;
  const auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
  };
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ERRORBUFFER, error_text);
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_CAINFO, ca_file.empty() ? nullptr : ca_file.c_str());
  set(CURLOPT_CAPATH, ca_dir.empty() ? nullptr : ca_dir.c_str());
  if (!o.client_certificate_file.empty()) {
    set(CURLOPT_SSLCERT, o.client_certificate_file.c_str());
    set(CURLOPT_SSLCERTTYPE, "PEM");
    set(CURLOPT_SSLKEY, o.client_key_file.c_str());
    set(CURLOPT_SSLKEYTYPE, "PEM");
  }
  set(CURLOPT_SSL_CTX_FUNCTION, on_ssl_context);
  set(CURLOPT_PROXY, proxy.url.c_str());  // "" : no proxy, whatever the environment says
  set(CURLOPT_NOPROXY, no_proxy.c_str());
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(o.total_timeout.count()));
  set(CURLOPT_LOW_SPEED_LIMIT, o.low_speed_bytes_per_second);
  set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_window.count()));
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_body_bytes));
  set(CURLOPT_USERAGENT, o.user_agent.c_str());
  set(CURLOPT_HTTPHEADER, headers);
  set(CURLOPT_WRITEFUNCTION, on_body);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&x));
  set(CURLOPT_HEADERFUNCTION, on_header);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&x));
  if (request.method == Method::Head) set(CURLOPT_NOBODY, 1L);
  if (request.method == Method::Post) {
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(CURLOPT_READFUNCTION, on_read);
    set(CURLOPT_READDATA, static_cast<void*>(&x));
    set(CURLOPT_SEEKFUNCTION, on_seek);
    set(CURLOPT_SEEKDATA, static_cast<void*>(&x));
  }
  return rc;
}

std::optional<CURLcode> CurlTransport::Impl::perform(const std::atomic<bool>* cancel) {
  const auto cancelled = [cancel] { return cancel != nullptr && cancel->load(); };
  if (cancelled()) return std::nullopt;
  if (curl_multi_add_handle(multi.get(), easy.get()) != CURLM_OK) return CURLE_OUT_OF_MEMORY;
  std::optional<CURLcode> result = CURLE_OK;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
      result = CURLE_OUT_OF_MEMORY;
      break;
    }
    if (running == 0) {
      int queued = 0;
      while (CURLMsg* m = curl_multi_info_read(multi.get(), &queued))
        if (m->msg == CURLMSG_DONE) result = m->data.result;
      break;
    }
    if (cancelled()) {
      result = std::nullopt;  // removing the handle mid-transfer closes its connection
      break;
    }
    if (curl_multi_poll(multi.get(), nullptr, 0, kPollMs, nullptr) != CURLM_OK) {
      result = CURLE_OUT_OF_MEMORY;
      break;
    }
  }
  (void)curl_multi_remove_handle(multi.get(), easy.get());
  return result;
}

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(CurlTransportOptions options) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { (void)curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (auto checked = check_options(options); !checked) return std::unexpected(checked.error());
  if (options.client_certificate_file.empty() != options.client_key_file.empty())
    return fail(ErrorKind::Invalid, "a TLS client certificate needs its key, and a key its certificate");
  if (options.user_agent.empty()) options.user_agent = std::string("certagent/") + kVersion;
  auto impl = std::make_unique<Impl>();
  ProxyVariable variable{options.proxy.value_or(""), "the transport's proxy option"};
  if (!options.proxy) variable = proxy_from_environment();
  auto proxy = check_proxy(variable.value, variable.name);
  if (!proxy) return std::unexpected(proxy.error());
  impl->proxy = std::move(*proxy);
  impl->no_proxy = options.no_proxy ? *options.no_proxy : no_proxy_from_environment();
  if (!options.trust_file.empty()) {
    impl->ca_file = options.trust_file;
  } else {  // the system store as OpenSSL's defaults name it (SSL_CTX_set_default_verify_paths)
    const char* dir = std::getenv(X509_get_default_cert_dir_env());
    impl->ca_dir = dir != nullptr && *dir != '\0' ? dir : X509_get_default_cert_dir();
    const char* file = std::getenv(X509_get_default_cert_file_env());
    if (file != nullptr && *file != '\0') impl->ca_file = file;
  }
  impl->multi.reset(curl_multi_init());
  impl->easy.reset(curl_easy_init());
  if (!impl->multi || !impl->easy) return fail(ErrorKind::Transport, "starting libcurl: out of memory");
  (void)curl_multi_setopt(impl->multi.get(), CURLMOPT_MAXCONNECTS, 1L);
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(options), std::move(impl)));
}

CurlTransport::CurlTransport(CurlTransportOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}

CurlTransport::~CurlTransport() = default;

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
  const std::string what = fmt::format("{} {}", method_name(request.method), escape_control(request.url, 300));
  if (!is_https_url(request.url))
    return fail(ErrorKind::Invalid,
                fmt::format("refusing {}: only https:// URLs are allowed (the CA must be reached over TLS)", what));
  ++requests_sent_;
  Exchange x;
  x.options = &options_;
  x.easy = impl_->easy.get();
  x.upload = request.body;
  List headers;
  const auto add = [&](const std::string& line) {
    if (curl_slist* more = curl_slist_append(headers.get(), line.c_str())) {
      (void)headers.release();
      headers.reset(more);
    }
  };
  if (!request.content_type.empty()) add("Content-Type: " + request.content_type);
  for (const auto& h : request.headers) add(h.name + ": " + h.value);
  add("Expect:");  // no 100-continue round trip before a POST body
  Impl& impl = *impl_;
  impl.error_text[0] = '\0';
  if (CURLcode rc = impl.configure(options_, request, x, headers.get()); rc != CURLE_OK)
    return fail(ErrorKind::Transport, fmt::format("{}: setting up libcurl: {}", what, curl_easy_strerror(rc)));
  t_close_notified.clear();
  const auto result = impl.perform(options_.cancel);
  long connects = 0;
  if (curl_easy_getinfo(impl.easy.get(), CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
    connections_opened_ += static_cast<std::uint64_t>(connects);
  if (!result) return fail(ErrorKind::Cancelled, what + ": cancelled (the agent is stopping)");
  if (*result != CURLE_OK) {
    TransferFacts facts{*result, impl.error_text, x.flags, request.url, impl.proxy};
    (void)curl_easy_getinfo(impl.easy.get(), CURLINFO_HTTP_CONNECTCODE, &facts.proxy_status);
    curl_off_t pretransfer_us = 0;  // set once a connection (new or reused) is ready
    (void)curl_easy_getinfo(impl.easy.get(), CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
    facts.connected = pretransfer_us > 0;
    return std::unexpected(transfer_error(facts, options_).context(what));
  }
  long status = 0;
  (void)curl_easy_getinfo(impl.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  x.response.status = static_cast<int>(status);
  long version = 0;
  (void)curl_easy_getinfo(impl.easy.get(), CURLINFO_HTTP_VERSION, &version);
  if (framed_by_close(x.response, request.method, version) &&
      std::find(t_close_notified.begin(), t_close_notified.end(), x.tls) == t_close_notified.end())
    return fail(ErrorKind::Transport,
                fmt::format("{}: the connection to {} ended without a TLS close_notify before the end of a body "
                            "framed by the connection's end: the body may be cut short",
                            what, authority_of(request.url)),
                true);
  return std::move(x.response);
}

}  // namespace certagent::protocol
