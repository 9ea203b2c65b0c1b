#include "common/escape.hpp"
#include "protocol/acme/session.hpp"

#include "protocol/acme/json.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/x509/base64.hpp"
#include "protocol/acme/jws.hpp"
#include "protocol/acme/problem.hpp"
#include "protocol/acme/retry_after.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

constexpr std::string_view kJoseJson = "application/jose+json";

}  // namespace

Result<AcmeSession> AcmeSession::open(Transport& transport, const Clock& clock, Waiter& waiter,
                                      std::string_view directory_url, SessionOptions options) {
  AcmeSession session(transport, clock, waiter, options);
  auto resp = session.get(directory_url, "reading the ACME directory " + std::string(directory_url));
  if (!resp) return std::unexpected(resp.error());
  if (!resp->header("Content-Type").value_or("").starts_with("application/json"))
    return fail(ErrorKind::Protocol, "reading the ACME directory " + std::string(directory_url) +
                                         ": the answer is not application/json");
  auto dir = parse_directory(resp->body, directory_url);
  if (!dir) return std::unexpected(dir.error());
  session.directory_ = std::move(*dir);
  return session;
}

AcmeSession AcmeSession::sibling(Transport& transport) const {
  AcmeSession other(transport, *clock_, *waiter_, options_);
  other.directory_ = directory_;
  other.nonces_ = nonces_;
  other.account_ = account_;
  other.account_thumbprint_ = account_thumbprint_;
  return other;
}

void AcmeSession::set_account(AccountRef account) {
  if (account.key != account_.key) account_thumbprint_.reset();
  account_ = std::move(account);
}

Result<std::string> AcmeSession::account_thumbprint() {
  if (account_thumbprint_) return *account_thumbprint_;
  if (!account_.key) return fail(ErrorKind::Invalid, "the account thumbprint: the session has no account key");
  auto thumbprint = jwk_thumbprint(*account_.key);
  if (!thumbprint) return std::unexpected(thumbprint.error().context("computing the account key's JWK thumbprint"));
  ++thumbprint_computations_;
  account_thumbprint_ = *thumbprint;
  return *thumbprint;
}

std::optional<std::chrono::seconds> AcmeSession::retry_after(const HttpResponse& r) const {
  auto value = r.header("Retry-After");
  if (!value) return std::nullopt;
  auto delay = parse_retry_after(*value, clock_->now());
  if (!delay) return std::nullopt;  // unreadable: back off on our own schedule instead
  return *delay;
}

Result<HttpResponse> AcmeSession::send(const HttpRequest& request, std::string_view doing) {
  ++requests_;
  auto resp = transport_->send(request);
  if (!resp) return std::unexpected(std::move(resp.error()).context(std::string(doing)));
  if (auto nonce = resp->header("Replay-Nonce")) nonces_->add(*nonce);
  // ACME (RFC 8555) never redirects; following one could loop or leave the CA.
  if (resp->status >= 300 && resp->status < 400)
    return fail(ErrorKind::Protocol, std::string(doing) + ": the CA answered HTTP " + std::to_string(resp->status) +
                                         ", a redirect to '" + escape_control(resp->header("Location").value_or(""), 200) +
                                         "', which ACME does not use; not followed");
  return resp;
}

// With a pool shared by sibling sessions, another thread may take the nonce a
// newNonce answer brought before this one does: then it asks again (bounded).
Result<std::string> AcmeSession::next_nonce() {
  constexpr int kMaxFetches = 8;
  for (int fetched = 0;; ++fetched) {
    if (auto n = nonces_->take()) return *n;
    if (fetched == kMaxFetches)
      return fail(ErrorKind::Protocol, "fetching a nonce from " + directory_.new_nonce + ": still none after " +
                                           std::to_string(kMaxFetches) + " answers",
                  true);
    HttpRequest req{Method::Head, directory_.new_nonce, "", "", {}};
    auto resp = send(req, "fetching a nonce from " + directory_.new_nonce);
    if (!resp) return std::unexpected(resp.error());
    if (resp->status != 200 && resp->status != 204)
      return std::unexpected(error_from_response(*resp, "fetching a nonce", retry_after(*resp)));
    if (!resp->header("Replay-Nonce") || !is_base64url(*resp->header("Replay-Nonce")))
      return fail(ErrorKind::Protocol, "fetching a nonce from " + directory_.new_nonce +
                                           ": the answer has no usable Replay-Nonce header",
                  true);
  }
}

// For a 429/503 whose Retry-After is short enough: waits and returns true (try again).
Result<bool> AcmeSession::wait_if_busy(const Error& err, int& busy_retries) {
  if (err.kind != ErrorKind::RateLimited && err.kind != ErrorKind::ServerInternal) return false;
  if (!err.retry_after || *err.retry_after > options_.max_busy_wait) return false;
  if (busy_retries >= options_.max_busy_retries) return false;
  ++busy_retries;
  acme_log().debug("the CA is busy ({}); trying again in {} s", to_string(err.kind), err.retry_after->count());
  auto waited = waiter_->wait_until(clock_->now() + *err.retry_after);
  if (!waited) return std::unexpected(waited.error());
  return true;
}

Result<HttpResponse> AcmeSession::get(std::string_view url, std::string_view doing) {
  int busy = 0;
  for (;;) {
    auto resp = send(HttpRequest{Method::Get, std::string(url), "", "", {}}, doing);
    if (!resp) return resp;
    if (resp->status < 400) return resp;
    Error err = error_from_response(*resp, doing, retry_after(*resp));
    auto again = wait_if_busy(err, busy);
    if (!again) return std::unexpected(again.error());
    if (!*again) return std::unexpected(std::move(err));
  }
}

Result<HttpResponse> AcmeSession::post_jws(std::string_view url, const BodyBuilder& build, std::string_view doing) {
  int bad_nonces = 0;
  int busy = 0;
  for (;;) {
    auto nonce = next_nonce();
    if (!nonce) return std::unexpected(std::move(nonce.error()).context(std::string(doing)));
    auto body = build(*nonce);
    if (!body) return std::unexpected(std::move(body.error()).context(std::string(doing)));
    auto resp = send(HttpRequest{Method::Post, std::string(url), std::string(kJoseJson), std::move(*body), {}}, doing);
    if (!resp) return resp;
    if (resp->status < 400) return resp;
    Error err = error_from_response(*resp, doing, retry_after(*resp));
    if (err.kind == ErrorKind::BadNonce && bad_nonces < options_.max_bad_nonce_retries) {
      ++bad_nonces;
      ++bad_nonce_retries_;
      acme_log().trace("badNonce from {}; retrying with a fresh nonce ({})", url, bad_nonces);
      continue;
    }
    auto again = wait_if_busy(err, busy);
    if (!again) return std::unexpected(again.error());
    if (!*again) return std::unexpected(std::move(err));
  }
}

Result<HttpResponse> AcmeSession::post(std::string_view url, std::string_view payload, std::string_view doing) {
  if (!account_.key || account_.url.empty())
    return fail(ErrorKind::Invalid, std::string(doing) + ": no ACME account is set on the session");
  std::string target(url);
  std::string body(payload);
  return post_jws(url, [&](const std::string& nonce) {
    return sign_jws(JwsSigner{*account_.key, account_.url}, target, nonce, body);
  }, doing);
}

Result<json::object> json_body(const HttpResponse& response, std::string_view what) {
  auto type = response.header("Content-Type").value_or("");
  if (!type.starts_with("application/json"))
    return fail(ErrorKind::Protocol, "the " + std::string(what) + " came as '" + escape_control(type, 80) +
                                         "', not application/json");
  return parse_json_object(response.body, what);
}

Result<std::string> location_of(const HttpResponse& response, std::string_view what) {
  auto loc = response.header("Location");
  if (!loc || loc->empty())
    return fail(ErrorKind::Protocol, "the CA created the " + std::string(what) + " but sent no Location header");
  return url_from_ca(std::move(*loc), std::string(what) + " URL (Location header)");
}

}  // namespace certagent::protocol
