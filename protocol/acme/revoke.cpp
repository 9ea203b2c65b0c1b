#include "protocol/acme/revoke.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/acme/jws.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {

namespace {

struct Revocation {
  std::string doing;
  std::string url;
  std::string payload;
};

Result<Revocation> revocation(AcmeSession& session, const Certificate& certificate, RevocationReason reason,
                              std::string_view signer) {
  Revocation r{"revoking the certificate with serial " + certificate.info().serial_hex + std::string(signer),
               session.directory().revoke_cert, ""};
  if (r.url.empty()) return fail(ErrorKind::Protocol, r.doing + ": the CA's directory has no revokeCert");
  auto der = certificate.der();
  if (!der) return std::unexpected(std::move(der.error()).context(r.doing));
  r.payload = boost::json::serialize(
      boost::json::object{{"certificate", base64url_encode(*der)}, {"reason", static_cast<int>(reason)}});
  return r;
}

}  // namespace

Result<void> revoke_certificate(AcmeSession& session, const Certificate& certificate, RevocationReason reason) {
  auto r = revocation(session, certificate, reason, "");
  if (!r) return std::unexpected(r.error());
  auto resp = session.post(r->url, r->payload, r->doing);
  if (!resp) return std::unexpected(resp.error());
  return ok();
}

Result<void> revoke_certificate_with_key(AcmeSession& session, const Certificate& certificate,
                                         RevocationReason reason, const PrivateKey& certificate_key) {
  auto r = revocation(session, certificate, reason, " (signed with its own key)");
  if (!r) return std::unexpected(r.error());
  auto resp = session.post_jws(r->url, [&](const std::string& nonce) {
    return sign_jws(JwsSigner{certificate_key, ""}, r->url, nonce, r->payload);
  }, r->doing);
  if (!resp) return std::unexpected(resp.error());
  return ok();
}

}  // namespace certagent::protocol
