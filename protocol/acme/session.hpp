#pragma once
// One conversation with one ACME CA (RFC 8555 §6): the directory, the nonce
// pool, signed POSTs (JWS with `jwk` or `kid`), and the "sender" that turns
// error responses into typed errors and retries what may be retried — a
// badNonce with the nonce from the error response (bounded), a 429/503 after
// its Retry-After (bounded, through the caller's Waiter; never a sleep here).
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "protocol/acme/directory.hpp"
#include "protocol/http/http.hpp"
#include "protocol/x509/keys.hpp"
#include "protocol/acme/nonce_pool.hpp"
#include "protocol/acme/waiting.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::protocol {

struct SessionOptions {
  int max_bad_nonce_retries = 10;
  int max_busy_retries = 3;                 // 429/503 retried after their Retry-After
  std::chrono::seconds max_busy_wait{60};   // a longer Retry-After is returned to the caller
};

// The account the session signs with: its key and URL (the JWS `kid`).
struct AccountRef {
  std::shared_ptr<const PrivateKey> key;
  std::string url;
};

class AcmeSession {
 public:
  // Reads the directory at `directory_url` (GET, Retry-After honoured).
  [[nodiscard]] static Result<AcmeSession> open(Transport& transport, const Clock& clock, Waiter& waiter,
                                                std::string_view directory_url, SessionOptions options = {});

  // Another session to the same CA over `transport`, for another thread: it
  // shares this session's directory (no second directory request), nonce pool
  // (thread-safe) and account, and counts its own requests. The clock and
  // waiter are shared too, so they must be safe to use from several threads.
  [[nodiscard]] AcmeSession sibling(Transport& transport) const;

  [[nodiscard]] const Directory& directory() const { return directory_; }
  [[nodiscard]] const Clock& clock() const { return *clock_; }
  [[nodiscard]] Waiter& waiter() { return *waiter_; }
  [[nodiscard]] size_t request_count() const { return requests_; }
  // badNonce answers retried with a fresh nonce so far (each one a request the CA refused).
  [[nodiscard]] size_t bad_nonce_retries() const { return bad_nonce_retries_; }

  // A new key (not merely a new URL for the same one) forgets the account thumbprint.
  void set_account(AccountRef account);
  [[nodiscard]] const AccountRef& account() const { return account_; }
  // The RFC 7638 thumbprint of the account key, which every key authorization carries
  // (RFC 8555 §8.1): computed the first time it is asked for and kept until set_account
  // changes the key. Like the rest of the session, for one thread at a time; a sibling
  // starts with a copy of what this session has computed.
  [[nodiscard]] Result<std::string> account_thumbprint();
  // How many times this session computed the thumbprint (the cache's test seam).
  [[nodiscard]] size_t thumbprint_computations() const { return thumbprint_computations_; }

  // Builds the JWS body for one attempt from a fresh nonce.
  using BodyBuilder = std::function<Result<std::string>(const std::string& nonce)>;
  // POST of `build(nonce)` to `url`; retries badNonce and short 429/503.
  [[nodiscard]] Result<HttpResponse> post_jws(std::string_view url, const BodyBuilder& build, std::string_view doing);
  // POST signed by the account (`kid`); `payload` is JSON text, "" is POST-as-GET.
  [[nodiscard]] Result<HttpResponse> post(std::string_view url, std::string_view payload, std::string_view doing);
  [[nodiscard]] Result<HttpResponse> post_as_get(std::string_view url, std::string_view doing) {
    return post(url, "", doing);
  }
  // Unauthenticated GET (directory, renewalInfo); retries short 429/503.
  [[nodiscard]] Result<HttpResponse> get(std::string_view url, std::string_view doing);
  // The intermediates of the chains this session downloaded, parsed once
  // (protocol/acme/certificate.cpp); each session has its own.
  [[nodiscard]] CertificateMemo& intermediates() { return *intermediates_; }
  // The response's Retry-After (delta-seconds or HTTP-date) as a duration from now.
  [[nodiscard]] std::optional<std::chrono::seconds> retry_after(const HttpResponse& r) const;

 private:
  AcmeSession(Transport& t, const Clock& c, Waiter& w, SessionOptions o)
      : transport_(&t), clock_(&c), waiter_(&w), options_(o) {}
  [[nodiscard]] Result<HttpResponse> send(const HttpRequest& request, std::string_view doing);
  [[nodiscard]] Result<std::string> next_nonce();
  [[nodiscard]] Result<bool> wait_if_busy(const Error& err, int& busy_retries);

  Transport* transport_;
  const Clock* clock_;
  Waiter* waiter_;
  SessionOptions options_;
  Directory directory_;
  std::shared_ptr<NoncePool> nonces_ = std::make_shared<NoncePool>();
  AccountRef account_;
  std::optional<std::string> account_thumbprint_;  // of account_.key, once computed
  size_t thumbprint_computations_ = 0;
  std::unique_ptr<CertificateMemo> intermediates_ = std::make_unique<CertificateMemo>();
  size_t requests_ = 0;
  size_t bad_nonce_retries_ = 0;
};

// The body of a successful response as a JSON object; a Protocol error when
// the Content-Type is not application/json or the JSON is bad.
[[nodiscard]] Result<boost::json::object> json_body(const HttpResponse& response, std::string_view what);
// The Location header (an account or order URL); a Protocol error when absent.
[[nodiscard]] Result<std::string> location_of(const HttpResponse& response, std::string_view what);

}  // namespace certagent::protocol
