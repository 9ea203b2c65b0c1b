#pragma once
// A small DER writer (X.690) for the few structures certagent builds itself:
// the PKCS#10 request (protocol/x509/csr.cpp) and the SubjectPublicKeyInfo of a
// key. OpenSSL's X509_REQ path encodes the key through its provider encoders
// and decodes it again (X509_PUBKEY_set), which costs more than the whole
// rest of the request; these bytes are built from the key's parameters.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "protocol/x509/keys.hpp"

namespace certagent::protocol::der {

inline constexpr unsigned char kInteger = 0x02, kBitString = 0x03, kOctetString = 0x04, kNull = 0x05,
                               kOid = 0x06, kUtf8String = 0x0c, kSequence = 0x30, kSet = 0x31;

// tag, definite length (short or long form), content.
[[nodiscard]] std::string tlv(unsigned char tag, std::string_view content);
// An INTEGER from unsigned big-endian magnitude bytes (leading zeros dropped,
// a 0x00 prepended when the high bit is set; empty means 0).
[[nodiscard]] std::string unsigned_integer(std::string_view magnitude);
// A BIT STRING with no unused bits.
[[nodiscard]] std::string bit_string(std::string_view bytes);

// The DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of the key's public half:
// id-ecPublicKey with the named curve and the uncompressed point (RFC 5480),
// or rsaEncryption with NULL parameters and RSAPublicKey (RFC 3279) — the
// bytes i2d_PUBKEY writes for the same key.
[[nodiscard]] Result<std::string> subject_public_key_info(const PrivateKey& key);

}  // namespace certagent::protocol::der
