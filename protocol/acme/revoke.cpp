#include "protocol/acme/revoke.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/x509/base64.hpp"

namespace certagent::protocol {

Result<void> revoke_certificate(AcmeSession& session, const Certificate& certificate, RevocationReason reason) {
  const std::string doing = "revoking the certificate with serial " + certificate.info().serial_hex;
  const std::string& url = session.directory().revoke_cert;
  if (url.empty()) return fail(ErrorKind::Protocol, doing + ": the CA's directory has no revokeCert");
  auto der = certificate.der();
  if (!der) return std::unexpected(std::move(der.error()).context(doing));
  boost::json::object payload{{"certificate", base64url_encode(*der)}, {"reason", static_cast<int>(reason)}};
  auto resp = session.post(url, boost::json::serialize(payload), doing);
  if (!resp) return std::unexpected(resp.error());
  return ok();
}

}  // namespace certagent::protocol
