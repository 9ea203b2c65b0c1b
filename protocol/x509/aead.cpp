#include "protocol/x509/aead.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <fmt/format.h>

#include "common/secret_file.hpp"
#include "common/text.hpp"
#include "protocol/x509/base64.hpp"
#include "protocol/x509/ossl.hpp"

namespace certagent::protocol {
namespace {

constexpr std::string_view kPrefix = "certagent-aead-v1:";
constexpr std::size_t kNonce = 12, kTag = 16;

using CipherCtx = ossl::Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

Result<AeadKey> aead_key_from_base64(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);  // one line
  auto raw = base64_any_decode(trim(text));
  if (!raw || raw->size() != AeadKey{}.size())
    return fail(ErrorKind::Invalid, "the key is not the base64 of 32 bytes (make one with `openssl rand -base64 32`; "
                                    "its text is not shown)");
  AeadKey key{};
  std::copy(raw->begin(), raw->end(), key.begin());
  OPENSSL_cleanse(raw->data(), raw->size());
  return key;
}

Result<AeadKey> read_aead_key_file(const std::string& path) {
  auto text = read_secret_file(path, "the pool key file", 1024);
  if (!text) return std::unexpected(text.error());
  auto key = aead_key_from_base64(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key) return std::unexpected(std::move(key.error()).context("the pool key file " + path));
  return key;
}

std::string aead_key_id(const AeadKey& key) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(key.data(), key.size(), digest.data());
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

Result<std::string> aead_seal(const AeadKey& key, std::string_view plaintext, std::string_view context) {
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(buf, static_cast<int>(kNonce)) != 1) return fail(ErrorKind::Crypto, "no random bytes for a nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0, total = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), buf) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(context), static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), buf + kNonce, &n, bytes(plaintext), static_cast<int>(plaintext.size())) != 1)
    return fail(ErrorKind::Crypto, "AES-256-GCM encryption failed");
  total = n;
  if (EVP_EncryptFinal_ex(ctx.get(), buf + kNonce + total, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTag), buf + kNonce + plaintext.size()) != 1)
    return fail(ErrorKind::Crypto, "AES-256-GCM encryption failed");
  return std::string(kPrefix) + base64_encode(out);
}

Result<std::string> aead_open(const AeadKey& key, std::string_view sealed, std::string_view context) {
  if (!sealed.starts_with(kPrefix)) return fail(ErrorKind::Rejected, "not a sealed value (no certagent-aead-v1: prefix)");
  auto raw = base64_any_decode(sealed.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonce + kTag) return fail(ErrorKind::Rejected, "a sealed value that is too short or not base64");
  const auto* buf = bytes(*raw);
  const std::size_t length = raw->size() - kNonce - kTag;
  std::string plain(length, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), buf) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(context), static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &n, buf + kNonce, static_cast<int>(length)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTag),
                          const_cast<unsigned char*>(buf + kNonce + length)) != 1)
    return fail(ErrorKind::Crypto, "AES-256-GCM decryption failed to start");
  const int total = n;
  if (EVP_DecryptFinal_ex(ctx.get(), out + total, &n) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return fail(ErrorKind::Crypto, "the pool key does not open this value (another key sealed it, or it was altered)");
  }
  return plain;
}

}  // namespace certagent::protocol
