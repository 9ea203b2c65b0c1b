#pragma once
// Private keys: generation, PEM (PKCS#8) in and out, 0600 key files.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "protocol/x509/ossl.hpp"

namespace certagent::protocol {

enum class KeyType { EcP256, EcP384, Rsa2048, Rsa3072, Rsa4096 };

// "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"
[[nodiscard]] std::string_view to_string(KeyType t);
[[nodiscard]] Result<KeyType> parse_key_type(std::string_view s);

class PrivateKey {
 public:
  [[nodiscard]] static Result<PrivateKey> generate(KeyType type);
  // Accepts PKCS#8 ("PRIVATE KEY") and the traditional EC/RSA PEM forms.
  [[nodiscard]] static Result<PrivateKey> from_pem(std::string_view pem);
  [[nodiscard]] static Result<PrivateKey> load(const std::filesystem::path& file);

  // PKCS#8, unencrypted. Encoded once per key (OpenSSL's encoders cost more
  // than the rest of an issuance's key handling); later calls return a copy.
  [[nodiscard]] Result<std::string> to_pem() const;
  // SubjectPublicKeyInfo PEM of the public half.
  [[nodiscard]] Result<std::string> public_pem() const;
  // Writes PKCS#8 PEM to `file`, created with O_EXCL|O_NOFOLLOW, mode 0600
  // (umask 077 while creating); fails if the file exists.
  [[nodiscard]] Result<void> write_new_file(const std::filesystem::path& file) const;

  [[nodiscard]] KeyType type() const { return type_; }
  [[nodiscard]] EVP_PKEY* get() const { return key_.get(); }

 private:
  struct PemOnce;
  PrivateKey(ossl::PKey key, KeyType type);
  ossl::PKey key_;
  KeyType type_;
  std::shared_ptr<PemOnce> pem_;  // the PKCS#8 PEM, encoded at the first to_pem()
};

// The KeyType of an existing key, or an error for curves/sizes certagent does not use.
[[nodiscard]] Result<KeyType> key_type_of(EVP_PKEY* key);

}  // namespace certagent::protocol
