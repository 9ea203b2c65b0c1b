#pragma once
// Authenticated encryption for what a pool shares through etcd (a certificate's private key):
// AES-256-GCM (OpenSSL), a fresh random 96-bit nonce per message, the 128-bit tag checked
// before anything is returned. The sealed form is "certagent-aead-v1:" + base64(nonce ||
// ciphertext || tag); `context` (e.g. the etcd key it is stored at) is authenticated too, so a
// value moved to another key does not open.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent::protocol {

using AeadKey = std::array<unsigned char, 32>;

// The key file: the base64 of 32 random bytes on one line (`openssl rand -base64 32`), in a
// file only root or the agent may read (common/secret_file.hpp). The key is never logged.
[[nodiscard]] Result<AeadKey> read_aead_key_file(const std::string& path);
[[nodiscard]] Result<AeadKey> aead_key_from_base64(std::string_view text);
// The key's public name for messages and status: the first 8 bytes of SHA-256 over it, in hex
// (tells two members' keys apart without revealing them).
[[nodiscard]] std::string aead_key_id(const AeadKey& key);

[[nodiscard]] Result<std::string> aead_seal(const AeadKey& key, std::string_view plaintext, std::string_view context);
// Rejected when the key is not the one that sealed it, or anything was altered.
[[nodiscard]] Result<std::string> aead_open(const AeadKey& key, std::string_view sealed, std::string_view context);

}  // namespace certagent::protocol
