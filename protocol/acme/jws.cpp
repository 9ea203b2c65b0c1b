#include "protocol/acme/jws.hpp"

#include <vector>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <boost/json/serialize.hpp>

#include "protocol/acme/json.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

size_t ec_coordinate_size(KeyType type) { return type == KeyType::EcP384 ? 48 : 32; }
bool is_ec(KeyType type) { return type == KeyType::EcP256 || type == KeyType::EcP384; }

Result<std::string> bn_param(EVP_PKEY* key, const char* name, size_t pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1 || raw == nullptr)
    return std::unexpected(ossl::crypto_error(std::string("reading key parameter ") + name));
  ossl::Bignum bn(raw);
  size_t size = pad_to != 0 ? pad_to : static_cast<size_t>(BN_num_bytes(bn.get()));
  std::string out(size, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) < 0)
    return std::unexpected(ossl::crypto_error(std::string("encoding key parameter ") + name));
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

const EVP_MD* digest_for(KeyType type) { return type == KeyType::EcP384 ? EVP_sha384() : EVP_sha256(); }

// ECDSA signatures are DER in OpenSSL; JWS wants r||s, each fixed width (RFC 7518 §3.4).
Result<std::string> der_to_raw_ecdsa(std::string_view der, size_t width) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::unexpected(ossl::crypto_error("decoding an ECDSA signature"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * width, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, buf, static_cast<int>(width)) < 0 || BN_bn2binpad(s, buf + width, static_cast<int>(width)) < 0)
    return std::unexpected(ossl::crypto_error("encoding an ECDSA signature"));
  return out;
}

Result<std::string> sign_bytes(const PrivateKey& key, std::string_view input) {
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(key.type()), nullptr, key.get()) != 1)
    return std::unexpected(ossl::crypto_error("preparing a JWS signature"));
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1)
    return std::unexpected(ossl::crypto_error("sizing a JWS signature"));
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) != 1)
    return std::unexpected(ossl::crypto_error("signing a JWS"));
  sig.resize(len);
  if (is_ec(key.type())) return der_to_raw_ecdsa(sig, ec_coordinate_size(key.type()));
  return sig;
}

json::object flattened(const std::string& protected_b64, const std::string& payload_b64, std::string_view sig) {
  json::object jws;
  jws["protected"] = protected_b64;
  jws["payload"] = payload_b64;
  jws["signature"] = base64url_encode(sig);
  return jws;
}

}  // namespace

std::string_view jws_algorithm(KeyType type) {
  switch (type) {
    case KeyType::EcP256: return "ES256";
    case KeyType::EcP384: return "ES384";
    default: return "RS256";
  }
}

Result<json::object> public_jwk(const PrivateKey& key) {
  json::object jwk;  // members inserted in lexicographic order (RFC 7638 §3.2)
  if (is_ec(key.type())) {
    size_t width = ec_coordinate_size(key.type());
    auto x = bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, width);
    auto y = bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, width);
    if (!x) return std::unexpected(x.error());
    if (!y) return std::unexpected(y.error());
    jwk["crv"] = key.type() == KeyType::EcP384 ? "P-384" : "P-256";
    jwk["kty"] = "EC";
    jwk["x"] = base64url_encode(*x);
    jwk["y"] = base64url_encode(*y);
    return jwk;
  }
  auto e = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, 0);
  auto n = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, 0);
  if (!e) return std::unexpected(e.error());
  if (!n) return std::unexpected(n.error());
  jwk["e"] = base64url_encode(*e);
  jwk["kty"] = "RSA";
  jwk["n"] = base64url_encode(*n);
  return jwk;
}

Result<std::string> jwk_thumbprint(const json::object& jwk) {
  auto kty = string_member(jwk, "kty");
  std::vector<std::string_view> members;
  if (kty == "EC") members = {"crv", "kty", "x", "y"};
  else if (kty == "RSA") members = {"e", "kty", "n"};
  else return fail(ErrorKind::Invalid, "JWK thumbprint: unsupported key type");
  json::object canonical;
  for (auto m : members) {
    auto v = string_member(jwk, m);
    if (!v) return fail(ErrorKind::Invalid, "JWK thumbprint: the JWK has no \"" + std::string(m) + "\" string");
    canonical[m] = *v;
  }
  return base64url_encode(sha256(json::serialize(canonical)));
}

Result<std::string> jwk_thumbprint(const PrivateKey& key) {
  auto jwk = public_jwk(key);
  if (!jwk) return std::unexpected(jwk.error());
  return jwk_thumbprint(*jwk);
}

Result<std::string> key_authorization(std::string_view token, const PrivateKey& account_key) {
  auto thumb = jwk_thumbprint(account_key);
  if (!thumb) return std::unexpected(thumb.error());
  return key_authorization(token, std::string_view(*thumb));
}

std::string key_authorization(std::string_view token, std::string_view account_thumbprint) {
  std::string out;
  out.reserve(token.size() + 1 + account_thumbprint.size());
  out.append(token).append(".").append(account_thumbprint);
  return out;
}

std::string dns01_value(std::string_view key_authorization) { return base64url_encode(sha256(key_authorization)); }

Result<json::object> sign_jws_object(const JwsSigner& signer, std::string_view url, std::string_view nonce,
                                     std::string_view payload) {
  json::object header;
  header["alg"] = jws_algorithm(signer.key.type());
  if (signer.kid.empty()) {
    auto jwk = public_jwk(signer.key);
    if (!jwk) return std::unexpected(jwk.error());
    header["jwk"] = std::move(*jwk);
  } else {
    header["kid"] = signer.kid;
  }
  if (!nonce.empty()) header["nonce"] = nonce;
  header["url"] = url;
  std::string protected_b64 = base64url_encode(json::serialize(header));
  std::string payload_b64 = base64url_encode(payload);
  auto sig = sign_bytes(signer.key, protected_b64 + "." + payload_b64);
  if (!sig) return std::unexpected(std::move(sig.error()).context("signing the request to " + std::string(url)));
  return flattened(protected_b64, payload_b64, *sig);
}

Result<std::string> sign_jws(const JwsSigner& signer, std::string_view url, std::string_view nonce,
                             std::string_view payload) {
  auto jws = sign_jws_object(signer, url, nonce, payload);
  if (!jws) return std::unexpected(jws.error());
  return json::serialize(*jws);
}

Result<json::object> eab_jws(const PrivateKey& account_key, std::string_view eab_kid, std::string_view mac_key,
                             std::string_view new_account_url) {
  if (eab_kid.empty()) return fail(ErrorKind::Invalid, "external account binding: the key id is empty");
  auto mac = base64_any_decode(mac_key);
  if (!mac || mac->empty())
    return fail(ErrorKind::Invalid, "external account binding: the MAC key is not base64url or base64 text");
  auto jwk = public_jwk(account_key);
  if (!jwk) return std::unexpected(jwk.error());
  json::object header;
  header["alg"] = "HS256";
  header["kid"] = eab_kid;
  header["url"] = new_account_url;
  std::string protected_b64 = base64url_encode(json::serialize(header));
  std::string payload_b64 = base64url_encode(json::serialize(*jwk));
  std::string input = protected_b64 + "." + payload_b64;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (HMAC(EVP_sha256(), mac->data(), static_cast<int>(mac->size()), reinterpret_cast<const unsigned char*>(input.data()),
           input.size(), out, &out_len) == nullptr)
    return std::unexpected(ossl::crypto_error("external account binding: computing the HMAC"));
  return flattened(protected_b64, payload_b64, std::string_view(reinterpret_cast<const char*>(out), out_len));
}

}  // namespace certagent::protocol
