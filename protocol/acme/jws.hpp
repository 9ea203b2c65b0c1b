#pragma once
// JSON Web Signatures as ACME uses them (RFC 7515, RFC 8555 §6.2): flattened
// JSON serialization, ES256/ES384 (raw r||s) or RS256, `jwk` or `kid` header,
// the JWK of an account key and its RFC 7638 thumbprint, and the HS256 inner
// JWS of External Account Binding (§7.3.4).
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "protocol/x509/keys.hpp"

namespace certagent::protocol {

// "ES256", "ES384" or "RS256" for the account key's type.
[[nodiscard]] std::string_view jws_algorithm(KeyType type);

// The public JWK of `key`, members in lexicographic order (the RFC 7638 form).
[[nodiscard]] Result<boost::json::object> public_jwk(const PrivateKey& key);
// base64url(SHA-256(canonical JWK)) — RFC 7638, used in key authorizations.
[[nodiscard]] Result<std::string> jwk_thumbprint(const PrivateKey& key);
// The same for a public JWK given as JSON: only the required members of its
// "kty" (EC: crv,kty,x,y; RSA: e,kty,n), in lexicographic order, no whitespace.
[[nodiscard]] Result<std::string> jwk_thumbprint(const boost::json::object& jwk);
// token "." thumbprint (RFC 8555 §8.1).
[[nodiscard]] Result<std::string> key_authorization(std::string_view token, const PrivateKey& account_key);
// The same with the account key's thumbprint already computed (AcmeSession::account_thumbprint).
[[nodiscard]] std::string key_authorization(std::string_view token, std::string_view account_thumbprint);
// base64url(SHA-256(key authorization)) — the dns-01 TXT value (§8.4).
[[nodiscard]] std::string dns01_value(std::string_view key_authorization);

// Who signs: `kid` (the account URL) once an account exists, `jwk` before.
struct JwsSigner {
  const PrivateKey& key;
  std::string kid;  // empty: put the JWK in the header instead
};

// Signs `payload` (already serialized JSON, or "" for POST-as-GET) for `url`
// (exactly as the server gave it). `nonce` is left out when empty (the inner
// JWS of a key change has none). Returns the flattened JWS as JSON text.
[[nodiscard]] Result<std::string> sign_jws(const JwsSigner& signer, std::string_view url, std::string_view nonce,
                                           std::string_view payload);
// The same, as a JSON object (to nest inside another payload).
[[nodiscard]] Result<boost::json::object> sign_jws_object(const JwsSigner& signer, std::string_view url,
                                                          std::string_view nonce, std::string_view payload);

// External Account Binding (§7.3.4): HS256 JWS over the account's JWK with the
// CA-issued key id; `mac_key` is base64url or base64 text, as the CA printed it.
[[nodiscard]] Result<boost::json::object> eab_jws(const PrivateKey& account_key, std::string_view eab_kid,
                                                  std::string_view mac_key, std::string_view new_account_url);

}  // namespace certagent::protocol
