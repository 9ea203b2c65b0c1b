#include "protocol/x509/der.hpp"

#include <openssl/core_names.h>

namespace certagent::protocol::der {
namespace {

// Content octets of the OIDs used here.
constexpr std::string_view kEcPublicKey{"\x2a\x86\x48\xce\x3d\x02\x01", 7};        // 1.2.840.10045.2.1
constexpr std::string_view kPrime256v1{"\x2a\x86\x48\xce\x3d\x03\x01\x07", 8};     // 1.2.840.10045.3.1.7
constexpr std::string_view kSecp384r1{"\x2b\x81\x04\x00\x22", 5};                  // 1.3.132.0.34
constexpr std::string_view kRsaEncryption{"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 9};  // 1.2.840.113549.1.1.1

Result<std::string> octet_param(EVP_PKEY* key, const char* name) {
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, name, nullptr, 0, &len) != 1 || len == 0)
    return std::unexpected(ossl::crypto_error(std::string("reading key parameter ") + name));
  std::string out(len, '\0');
  if (EVP_PKEY_get_octet_string_param(key, name, reinterpret_cast<unsigned char*>(out.data()), len, &len) != 1)
    return std::unexpected(ossl::crypto_error(std::string("reading key parameter ") + name));
  out.resize(len);
  return out;
}

Result<std::string> bn_magnitude(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1 || raw == nullptr)
    return std::unexpected(ossl::crypto_error(std::string("reading key parameter ") + name));
  ossl::Bignum bn(raw);
  std::string out(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  if (BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data())) != static_cast<int>(out.size()))
    return std::unexpected(ossl::crypto_error(std::string("encoding key parameter ") + name));
  return out;
}

Result<std::string> ec_spki(const PrivateKey& key) {
  auto point = octet_param(key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
  if (!point) return std::unexpected(point.error());
  const size_t coordinate = key.type() == KeyType::EcP384 ? 48 : 32;
  if (point->size() != 1 + 2 * coordinate || (*point)[0] != '\x04')
    return fail(ErrorKind::Crypto, "the EC public key is not an uncompressed point of its curve");
  const std::string_view curve = key.type() == KeyType::EcP384 ? kSecp384r1 : kPrime256v1;
  return tlv(kSequence, tlv(kSequence, tlv(kOid, kEcPublicKey) + tlv(kOid, curve)) + bit_string(*point));
}

Result<std::string> rsa_spki(const PrivateKey& key) {
  auto n = bn_magnitude(key.get(), OSSL_PKEY_PARAM_RSA_N);
  auto e = bn_magnitude(key.get(), OSSL_PKEY_PARAM_RSA_E);
  if (!n) return std::unexpected(n.error());
  if (!e) return std::unexpected(e.error());
  const std::string rsa_public_key = tlv(kSequence, unsigned_integer(*n) + unsigned_integer(*e));
  return tlv(kSequence, tlv(kSequence, tlv(kOid, kRsaEncryption) + tlv(kNull, "")) + bit_string(rsa_public_key));
}

}  // namespace

std::string tlv(unsigned char tag, std::string_view content) {
  std::string out(1, static_cast<char>(tag));
  const size_t len = content.size();
  if (len < 0x80) {
    out.push_back(static_cast<char>(len));
  } else {
    unsigned char bytes[sizeof(size_t)];
    size_t n = 0;
    for (size_t v = len; v != 0; v >>= 8) bytes[n++] = static_cast<unsigned char>(v & 0xff);
    out.push_back(static_cast<char>(0x80 | n));
    while (n > 0) out.push_back(static_cast<char>(bytes[--n]));
  }
  out.append(content);
  return out;
}

std::string unsigned_integer(std::string_view magnitude) {
  while (!magnitude.empty() && magnitude.front() == '\0') magnitude.remove_prefix(1);
  std::string content;
  if (magnitude.empty() || (static_cast<unsigned char>(magnitude.front()) & 0x80) != 0) content.push_back('\0');
  content.append(magnitude);
  return tlv(kInteger, content);
}

std::string bit_string(std::string_view bytes) {
  std::string content(1, '\0');  // no unused bits
  content.append(bytes);
  return tlv(kBitString, content);
}

Result<std::string> subject_public_key_info(const PrivateKey& key) {
  const bool ec = key.type() == KeyType::EcP256 || key.type() == KeyType::EcP384;
  auto spki = ec ? ec_spki(key) : rsa_spki(key);
  if (!spki) return std::unexpected(std::move(spki.error()).context("encoding the public key"));
  return spki;
}

}  // namespace certagent::protocol::der
