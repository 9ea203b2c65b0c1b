#include "protocol/x509/pkcs12.hpp"

#include <openssl/crypto.h>
#include <openssl/objects.h>

#include <limits>

namespace certagent::protocol {
namespace {

// A NUL-terminated copy of the password that is wiped when it goes away.
class Secret {
 public:
  explicit Secret(std::string_view s) : text_(s) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { OPENSSL_cleanse(text_.data(), text_.size()); }
  [[nodiscard]] const char* c_str() const { return text_.c_str(); }

 private:
  std::string text_;
};

Result<ossl::X509Stack> issuer_stack(const std::vector<const Certificate*>& chain) {
  ossl::X509Stack stack(sk_X509_new_null());
  if (!stack) return std::unexpected(ossl::crypto_error("allocating the PKCS#12 chain"));
  for (const Certificate* c : chain) {
    if (c == nullptr || X509_up_ref(c->get()) != 1)
      return std::unexpected(ossl::crypto_error("adding an issuer to the PKCS#12 chain"));
    if (sk_X509_push(stack.get(), c->get()) <= 0) {
      X509_free(c->get());
      return std::unexpected(ossl::crypto_error("adding an issuer to the PKCS#12 chain"));
    }
  }
  return stack;
}

Result<std::string> to_der(PKCS12* p12) {
  int len = i2d_PKCS12(p12, nullptr);
  if (len <= 0) return std::unexpected(ossl::crypto_error("encoding the PKCS#12 bundle"));
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_PKCS12(p12, &out) != len) return std::unexpected(ossl::crypto_error("encoding the PKCS#12 bundle"));
  return der;
}

int mac_digest_of(const PKCS12* p12) {
  const X509_ALGOR* alg = nullptr;
  PKCS12_get0_mac(nullptr, &alg, nullptr, nullptr, p12);
  if (alg == nullptr) return NID_undef;
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  return obj == nullptr ? NID_undef : OBJ_obj2nid(obj);
}

}  // namespace

Result<std::string> make_pkcs12(const Pkcs12Input& in, std::string_view password) {
  if (in.key == nullptr || in.leaf == nullptr) return fail(ErrorKind::Invalid, "a PKCS#12 bundle needs a key and a leaf");
  if (auto match = check_key_matches(*in.leaf, *in.key); !match)
    return std::unexpected(match.error().context("building a PKCS#12 bundle"));
  auto chain = issuer_stack(in.chain);
  if (!chain) return std::unexpected(chain.error());
  Secret pass(password);
  // Certificates and key: PBES2 with PBKDF2 (OpenSSL 3 uses HMAC-SHA-256 as
  // its PRF) and AES-256-CBC. The MAC is added below, over SHA-256.
  ossl::Pkcs12 p12(PKCS12_create(pass.c_str(), in.friendly_name.empty() ? nullptr : in.friendly_name.c_str(),
                                 in.key->get(), in.leaf->get(), chain->get(), NID_aes_256_cbc, NID_aes_256_cbc,
                                 in.iterations, -1, 0));
  if (!p12) return std::unexpected(ossl::crypto_error("building a PKCS#12 bundle"));
  if (PKCS12_set_mac(p12.get(), pass.c_str(), -1, nullptr, 0, in.iterations, EVP_sha256()) != 1)
    return std::unexpected(ossl::crypto_error("adding the SHA-256 MAC to a PKCS#12 bundle"));
  return to_der(p12.get());
}

Result<Pkcs12Contents> read_pkcs12(std::string_view der, std::string_view password) {
  if (der.size() > static_cast<std::size_t>(std::numeric_limits<long>::max()))
    return fail(ErrorKind::Invalid, "the PKCS#12 bundle is too large");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::Pkcs12 p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  if (!p12) return std::unexpected(ossl::crypto_error("parsing a PKCS#12 bundle"));
  Secret pass(password);
  EVP_PKEY* key = nullptr;
  X509* leaf = nullptr;
  STACK_OF(X509)* ca = nullptr;
  if (PKCS12_parse(p12.get(), pass.c_str(), &key, &leaf, &ca) != 1)
    return std::unexpected(ossl::crypto_error("opening a PKCS#12 bundle (wrong password or damaged MAC?)"));
  ossl::PKey owned_key(key);
  ossl::X509Stack owned_ca(ca);
  if (!owned_key || leaf == nullptr) {
    X509_free(leaf);
    return fail(ErrorKind::Crypto, "the PKCS#12 bundle holds no key or no certificate");
  }
  auto cert = Certificate::from_x509(ossl::X509Ptr(leaf));
  if (!cert) return std::unexpected(cert.error().context("reading the PKCS#12 leaf"));
  std::vector<Certificate> chain;
  for (int i = 0; owned_ca && i < sk_X509_num(owned_ca.get()); ++i) {
    X509* x = sk_X509_value(owned_ca.get(), i);
    if (X509_up_ref(x) != 1) return std::unexpected(ossl::crypto_error("reading the PKCS#12 chain"));
    auto c = Certificate::from_x509(ossl::X509Ptr(x));
    if (!c) return std::unexpected(c.error().context("reading the PKCS#12 chain"));
    chain.push_back(std::move(*c));
  }
  return Pkcs12Contents{std::move(owned_key), std::move(*cert), std::move(chain), mac_digest_of(p12.get())};
}

}  // namespace certagent::protocol
