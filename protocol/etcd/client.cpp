#include "protocol/etcd/client.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>

#include "common/escape.hpp"
#include "protocol/http/curl_transport.hpp"
#include "protocol/http/http.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace {

namespace json = boost::json;

// etcd's gateway writes 64-bit integers as strings ("revision":"2") and leaves out zeros.
std::int64_t int_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (!v->is_string()) return 0;
  const auto& s = v->as_string();
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() ? out : 0;
}

Result<std::string> bytes_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return fail(ErrorKind::Protocol, fmt::format("etcd sent a '{}' that is not a string", key));
  auto bytes = base64_any_decode(std::string_view(v->as_string()));
  if (!bytes) return std::unexpected(std::move(bytes.error()).context(fmt::format("etcd's '{}'", key)));
  return bytes;
}

Result<EtcdKeyValue> key_value(const json::value& v) {
  if (!v.is_object()) return fail(ErrorKind::Protocol, "etcd sent a key-value that is not an object");
  const auto& o = v.as_object();
  EtcdKeyValue kv;
  auto key = bytes_field(o, "key");
  if (!key) return std::unexpected(key.error());
  auto value = bytes_field(o, "value");
  if (!value) return std::unexpected(value.error());
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = int_field(o, "create_revision");
  kv.mod_revision = int_field(o, "mod_revision");
  kv.version = int_field(o, "version");
  kv.lease = int_field(o, "lease");
  return kv;
}

Result<std::vector<EtcdKeyValue>> key_values(const json::object& range) {
  std::vector<EtcdKeyValue> out;
  const auto* kvs = range.if_contains("kvs");
  if (kvs == nullptr) return out;
  if (!kvs->is_array()) return fail(ErrorKind::Protocol, "etcd sent 'kvs' that is not an array");
  for (const auto& v : kvs->as_array()) {
    auto kv = key_value(v);
    if (!kv) return std::unexpected(kv.error());
    out.push_back(std::move(*kv));
  }
  return out;
}

std::string b64(std::string_view s) { return base64_encode(s); }

// The end of the range of every key starting with `prefix` (etcd's range_end): the prefix with
// its last byte below 0xff incremented; "\0" (every key) when there is none.
std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c < 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

json::object compare_revision(std::string_view key, std::int64_t expected) {
  // A key that does not exist has create_revision 0; one that does, its mod_revision.
  if (expected == 0)
    return {{"target", "CREATE"}, {"key", b64(key)}, {"result", "EQUAL"}, {"create_revision", "0"}};
  return {{"target", "MOD"}, {"key", b64(key)}, {"result", "EQUAL"}, {"mod_revision", std::to_string(expected)}};
}

}  // namespace

struct EtcdClient::Impl {
  EtcdOptions options;
  std::vector<std::unique_ptr<Transport>> transports;  // one per endpoint
  std::size_t current = 0;

  // POSTs `body` to `path` at the current endpoint, moving on to the next one that answers
  // when it cannot be reached or has no leader; the JSON object it answered.
  Result<json::object> call(std::string_view path, const json::object& body) {
    const auto deadline = std::chrono::steady_clock::now() + options.retry_window;
    for (;;) {
      std::string tried;
      auto answered = round(path, body, tried);
      if (answered) return answered;
      if (!tried.empty() && options.waiter != nullptr && std::chrono::steady_clock::now() < deadline) {
        if (auto waited = options.waiter->wait_until(std::chrono::system_clock::now() + std::chrono::milliseconds(250));
            !waited)
          return std::unexpected(waited.error());
        continue;
      }
      if (tried.empty()) return answered;  // an answer that is an error: no retry
      return fail(ErrorKind::Transport, fmt::format("no etcd endpoint answered {} ({})", path, tried));
    }
  }

  // One try at every endpoint; `tried` says why each failed when none answered (and stays empty
  // when one answered with an error).
  Result<json::object> round(std::string_view path, const json::object& body, std::string& tried) {
    const std::string text = json::serialize(body);
    for (std::size_t n = 0; n < transports.size(); ++n) {
      const std::size_t i = (current + n) % transports.size();
      const std::string& endpoint = options.endpoints[i];
      HttpRequest request;
      request.method = Method::Post;
      request.url = endpoint + std::string(path);
      request.content_type = "application/json";
      request.body = text;
      auto response = transports[i]->send(request);
      std::string why;
      if (!response) {
        why = response.error().message;
      } else if (response->status >= 500) {
        why = fmt::format("HTTP {}: {}", response->status, escape_control(response->body, 300));
      } else {
        current = i;
        boost::system::error_code ec;
        auto parsed = json::parse(response->body, ec);
        if (ec || !parsed.is_object())
          return fail(ErrorKind::Protocol, fmt::format("etcd at {} answered {} with something that is not a JSON "
                                                       "object (HTTP {})", endpoint, path, response->status));
        if (response->status != 200) {
          const auto* message = parsed.as_object().if_contains("message");
          return fail(ErrorKind::Rejected,
                      fmt::format("etcd at {} refused {} (HTTP {}): {}", endpoint, path, response->status,
                                  message != nullptr && message->is_string()
                                      ? escape_control(std::string_view(message->as_string()), 300)
                                      : escape_control(response->body, 300)));
        }
        return std::move(parsed.as_object());
      }
      tried += fmt::format("{}{}: {}", tried.empty() ? "" : "; ", endpoint, why);
    }
    return fail(ErrorKind::Transport, "no etcd endpoint answered");
  }
};

Result<std::unique_ptr<EtcdClient>> EtcdClient::create(EtcdOptions options) {
  if (options.endpoints.empty()) return fail(ErrorKind::Invalid, "etcd: no endpoint given");
  std::vector<std::unique_ptr<Transport>> transports;
  for (const auto& endpoint : options.endpoints) {
    if (!is_https_url(endpoint))
      return fail(ErrorKind::Invalid, fmt::format("etcd endpoint '{}' is not an https:// URL", escape_control(endpoint, 200)));
    CurlTransportOptions t;
    t.trust_file = options.trust_file;
    t.client_certificate_file = options.client_certificate_file;
    t.client_key_file = options.client_key_file;
    t.connect_timeout = options.timeout;
    t.total_timeout = options.timeout;
    t.proxy = "";  // the cluster is the operator's own: never through a proxy
    auto transport = CurlTransport::create(t);
    if (!transport) return std::unexpected(std::move(transport.error()).context("etcd endpoint " + endpoint));
    transports.push_back(std::move(*transport));
  }
  return with_transports(std::move(options), std::move(transports));
}

std::unique_ptr<EtcdClient> EtcdClient::with_transports(EtcdOptions options,
                                                        std::vector<std::unique_ptr<Transport>> transports) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->transports = std::move(transports);
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(impl)));
}

EtcdClient::EtcdClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdClient::~EtcdClient() = default;

const std::string& EtcdClient::endpoint() const { return impl_->options.endpoints[impl_->current]; }

Result<std::optional<EtcdKeyValue>> EtcdClient::get(std::string_view key) {
  auto r = impl_->call("/v3/kv/range", {{"key", b64(key)}});
  if (!r) return std::unexpected(r.error());
  auto kvs = key_values(*r);
  if (!kvs) return std::unexpected(kvs.error());
  if (kvs->empty()) return std::optional<EtcdKeyValue>();
  return std::optional<EtcdKeyValue>(std::move(kvs->front()));
}

Result<std::vector<EtcdKeyValue>> EtcdClient::list(std::string_view prefix) {
  auto r = impl_->call("/v3/kv/range", {{"key", b64(prefix)}, {"range_end", b64(prefix_end(prefix))}});
  if (!r) return std::unexpected(r.error());
  return key_values(*r);
}

Result<EtcdSwap> EtcdClient::put_if(std::string_view key, std::string_view value, std::int64_t expected_mod_revision,
                                    std::int64_t lease) {
  json::object put{{"key", b64(key)}, {"value", b64(value)}};
  if (lease != 0) put["lease"] = std::to_string(lease);
  json::object txn{{"compare", json::array{compare_revision(key, expected_mod_revision)}},
                   {"success", json::array{json::object{{"request_put", put}}}},
                   {"failure", json::array{json::object{{"request_range", json::object{{"key", b64(key)}}}}}}};
  auto r = impl_->call("/v3/kv/txn", txn);
  if (!r) return std::unexpected(r.error());
  EtcdSwap out;
  const auto* succeeded = r->if_contains("succeeded");
  out.written = succeeded != nullptr && succeeded->is_bool() && succeeded->as_bool();
  if (const auto* header = r->if_contains("header"); header != nullptr && header->is_object())
    out.revision = int_field(header->as_object(), "revision");
  if (out.written) return out;
  const auto* responses = r->if_contains("responses");
  if (responses == nullptr || !responses->is_array() || responses->as_array().empty()) return out;
  const auto& first = responses->as_array().front();
  if (!first.is_object()) return fail(ErrorKind::Protocol, "etcd sent a transaction response that is not an object");
  const auto* range = first.as_object().if_contains("response_range");
  if (range == nullptr || !range->is_object()) return out;
  auto kvs = key_values(range->as_object());
  if (!kvs) return std::unexpected(kvs.error());
  if (!kvs->empty()) out.current = std::move(kvs->front());
  return out;
}

Result<bool> EtcdClient::delete_if(std::string_view key, std::int64_t expected_mod_revision) {
  json::object txn{{"compare", json::array{compare_revision(key, expected_mod_revision)}},
                   {"success", json::array{json::object{{"request_delete_range", json::object{{"key", b64(key)}}}}}}};
  auto r = impl_->call("/v3/kv/txn", txn);
  if (!r) return std::unexpected(r.error());
  const auto* succeeded = r->if_contains("succeeded");
  return succeeded != nullptr && succeeded->is_bool() && succeeded->as_bool();
}

Result<std::int64_t> EtcdClient::grant_lease(std::chrono::seconds ttl) {
  auto r = impl_->call("/v3/lease/grant", {{"TTL", std::to_string(ttl.count())}});
  if (!r) return std::unexpected(r.error());
  const std::int64_t id = int_field(*r, "ID");
  if (id == 0) {
    const auto* error = r->if_contains("error");
    return fail(ErrorKind::Protocol, fmt::format("etcd granted no lease{}", error != nullptr && error->is_string()
                                                                           ? ": " + escape_control(std::string_view(error->as_string()), 200)
                                                                           : std::string()));
  }
  return id;
}

Result<std::chrono::seconds> EtcdClient::keep_alive(std::int64_t lease) {
  // The gateway answers the stream's one request with {"result": {"ID", "TTL"}}; an expired
  // lease comes back without a TTL.
  auto r = impl_->call("/v3/lease/keepalive", {{"ID", std::to_string(lease)}});
  if (!r) return std::unexpected(r.error());
  const auto* result = r->if_contains("result");
  if (result == nullptr || !result->is_object()) return std::chrono::seconds(0);
  return std::chrono::seconds(int_field(result->as_object(), "TTL"));
}

Result<void> EtcdClient::revoke_lease(std::int64_t lease) {
  auto r = impl_->call("/v3/lease/revoke", {{"ID", std::to_string(lease)}});
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace certagent::protocol
