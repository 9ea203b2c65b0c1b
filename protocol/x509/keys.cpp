#include "protocol/x509/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include <openssl/core_names.h>
#include <openssl/pem.h>

namespace certagent::protocol {

std::string_view to_string(KeyType t) {
  switch (t) {
    case KeyType::EcP256: return "ec-p256";
    case KeyType::EcP384: return "ec-p384";
    case KeyType::Rsa2048: return "rsa-2048";
    case KeyType::Rsa3072: return "rsa-3072";
    case KeyType::Rsa4096: return "rsa-4096";
  }
  return "unknown";
}

Result<KeyType> parse_key_type(std::string_view s) {
  for (KeyType t : {KeyType::EcP256, KeyType::EcP384, KeyType::Rsa2048, KeyType::Rsa3072,
                    KeyType::Rsa4096}) {
    if (s == to_string(t)) return t;
  }
  return fail(ErrorKind::Invalid, "unknown key type '" + std::string(s) +
                                      "' (expected ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096)");
}

Result<KeyType> key_type_of(EVP_PKEY* key) {
  if (key == nullptr) return fail(ErrorKind::Invalid, "no key");
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1)
        return std::unexpected(ossl::crypto_error("reading the EC key's curve"));
      std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256") return KeyType::EcP256;
      if (g == "secp384r1" || g == "P-384") return KeyType::EcP384;
      return fail(ErrorKind::Crypto, "unsupported EC curve " + std::string(g));
    }
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(key);
      if (bits == 2048) return KeyType::Rsa2048;
      if (bits == 3072) return KeyType::Rsa3072;
      if (bits == 4096) return KeyType::Rsa4096;
      return fail(ErrorKind::Crypto, "unsupported RSA key size " + std::to_string(bits));
    }
    default:
      return fail(ErrorKind::Crypto, "unsupported key algorithm (only EC P-256/P-384 and RSA)");
  }
}

Result<PrivateKey> PrivateKey::generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::EcP256: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case KeyType::EcP384: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case KeyType::Rsa2048: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}); break;
    case KeyType::Rsa3072: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072}); break;
    case KeyType::Rsa4096: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096}); break;
  }
  if (raw == nullptr)
    return std::unexpected(ossl::crypto_error("generating a " + std::string(to_string(type)) + " key"));
  return PrivateKey(ossl::PKey(raw), type);
}

namespace {

// OpenSSL asks for a passphrase only when the key is encrypted. Without a callback it prompts
// on the controlling terminal and blocks; certagent's keys are unencrypted 0600 files, so the
// request is refused and remembered instead.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

}  // namespace

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  auto bio = ossl::mem_bio(pem);
  if (!bio) return std::unexpected(ossl::crypto_error("reading a private key"));
  bool asked = false;
  ossl::PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, &asked));
  if (!key && asked) {
    (void)ossl::drain_errors();
    return fail(ErrorKind::Invalid, "reading a PEM private key: the key is encrypted with a passphrase; "
                                    "certagent needs it unencrypted (e.g. openssl pkey -in KEY -out KEY.plain)");
  }
  if (!key) return std::unexpected(ossl::crypto_error("reading a PEM private key"));
  auto type = key_type_of(key.get());
  if (!type) return std::unexpected(std::move(type.error()).context("reading a PEM private key"));
  return PrivateKey(std::move(key), *type);
}

Result<PrivateKey> PrivateKey::load(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return fail(ErrorKind::Storage, "opening key file " + file.string() + ": " + std::strerror(errno));
  std::string text;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < (1u << 20)) text.append(buf, static_cast<size_t>(n));
  int read_errno = errno;
  ::close(fd);
  if (n < 0) return fail(ErrorKind::Storage, "reading key file " + file.string() + ": " + std::strerror(read_errno));
  auto key = from_pem(text);
  if (!key) return std::unexpected(std::move(key.error()).context("key file " + file.string()));
  return key;
}

namespace {

Result<std::string> encode_pem(EVP_PKEY* key) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return std::unexpected(ossl::crypto_error("writing a private key as PEM"));
  return ossl::bio_to_string(bio.get());
}

}  // namespace

// The key never changes, so neither does its PEM: encoded once, under a
// once_flag (a key may be shared between threads as const).
struct PrivateKey::PemOnce {
  std::once_flag once;
  Result<std::string> pem;
};

PrivateKey::PrivateKey(ossl::PKey key, KeyType type)
    : key_(std::move(key)), type_(type), pem_(std::make_shared<PemOnce>()) {}

Result<std::string> PrivateKey::to_pem() const {
  if (!pem_) return encode_pem(key_.get());
  std::call_once(pem_->once, [this] { pem_->pem = encode_pem(key_.get()); });
  return pem_->pem;
}

Result<std::string> PrivateKey::public_pem() const {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1)
    return std::unexpected(ossl::crypto_error("writing a public key as PEM"));
  return ossl::bio_to_string(bio.get());
}

Result<void> PrivateKey::write_new_file(const std::filesystem::path& file) const {
  auto pem = to_pem();
  if (!pem) return std::unexpected(pem.error());
  mode_t old_mask = ::umask(077);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  int open_errno = errno;
  ::umask(old_mask);
  if (fd < 0)
    return fail(ErrorKind::Storage, "creating key file " + file.string() + ": " + std::strerror(open_errno));
  const char* p = pem->data();
  size_t left = pem->size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(file.c_str());
      return fail(ErrorKind::Storage, "writing key file " + file.string() + ": " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(file.c_str());
    return fail(ErrorKind::Storage, "flushing key file " + file.string() + ": " + std::strerror(e));
  }
  return ok();
}

}  // namespace certagent::protocol
