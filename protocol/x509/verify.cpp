// Key matching and chain verification (RFC 5280 path validation by OpenSSL).
#include <openssl/err.h>

#include "protocol/x509/certificate.hpp"

namespace certagent::protocol {
namespace {

Result<ossl::X509Store> make_store(std::span<const Certificate> trust) {
  if (trust.empty()) return fail(ErrorKind::Invalid, "the trust bundle is empty");
  ossl::X509Store store(X509_STORE_new());
  if (!store) return std::unexpected(ossl::crypto_error("creating a certificate store"));
  for (const auto& anchor : trust)
    if (X509_STORE_add_cert(store.get(), anchor.get()) != 1)
      return std::unexpected(ossl::crypto_error("adding trust anchor '" + anchor.info().subject + "'"));
  return store;
}

Result<ossl::X509Stack> make_intermediates(std::span<const Certificate> chain) {
  ossl::X509Stack stack(sk_X509_new_null());
  if (!stack) return std::unexpected(ossl::crypto_error("creating the intermediate list"));
  for (size_t i = 1; i < chain.size(); ++i) {
    if (X509_up_ref(chain[i].get()) != 1) return std::unexpected(ossl::crypto_error("sharing an intermediate"));
    if (sk_X509_push(stack.get(), chain[i].get()) <= 0) {
      X509_free(chain[i].get());
      return std::unexpected(ossl::crypto_error("adding an intermediate"));
    }
  }
  return stack;
}

Error verify_failure(X509_STORE_CTX* ctx, const Certificate& leaf, std::chrono::system_clock::time_point at) {
  int code = X509_STORE_CTX_get_error(ctx);
  int depth = X509_STORE_CTX_get_error_depth(ctx);
  std::string where;
  if (X509* current = X509_STORE_CTX_get_current_cert(ctx); current != nullptr) {
    ossl::Bio bio(BIO_new(BIO_s_mem()));
    if (bio && X509_NAME_print_ex(bio.get(), X509_get_subject_name(current), 0,
                                      XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
      where = ", certificate '" + ossl::bio_to_string(bio.get()) + "'";
  }
  ERR_clear_error();
  return Error(ErrorKind::Crypto, "certificate '" + leaf.info().subject + "' does not verify at " + to_utc_string(at) +
                                      ": " + X509_verify_cert_error_string(code) + " (depth " +
                                      std::to_string(depth) + where + ")");
}

}  // namespace

Result<void> check_key_matches(const Certificate& cert, const PrivateKey& key) {
  ERR_clear_error();
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  if (pub == nullptr) return std::unexpected(ossl::crypto_error("reading the public key of '" + cert.info().subject + "'"));
  int eq = EVP_PKEY_eq(pub, key.get());
  if (eq == 1) return ok();
  if (eq == -2) return std::unexpected(ossl::crypto_error("comparing keys of '" + cert.info().subject + "'"));
  ERR_clear_error();
  return fail(ErrorKind::Invalid, "the " + std::string(to_string(key.type())) +
                                      " private key does not belong to certificate '" + cert.info().subject +
                                      "' (thumbprint " + cert.info().sha1_thumbprint + ")");
}

Result<void> verify_chain(std::span<const Certificate> chain, std::span<const Certificate> trust,
                          std::chrono::system_clock::time_point at) {
  ERR_clear_error();
  if (chain.empty()) return fail(ErrorKind::Invalid, "verifying a certificate chain: the chain is empty");
  auto store = make_store(trust);
  if (!store) return std::unexpected(std::move(store.error()).context("verifying a certificate chain"));
  auto intermediates = make_intermediates(chain);
  if (!intermediates) return std::unexpected(std::move(intermediates.error()).context("verifying a certificate chain"));
  ossl::X509StoreCtx ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store->get(), chain[0].get(), intermediates->get()) != 1)
    return std::unexpected(ossl::crypto_error("setting up chain verification"));
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (param == nullptr) return std::unexpected(ossl::crypto_error("setting the verification time"));
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(at));
  int rc = X509_verify_cert(ctx.get());
  if (rc == 1) return ok();
  if (rc < 0) return std::unexpected(ossl::crypto_error("verifying '" + chain[0].info().subject + "'"));
  return std::unexpected(verify_failure(ctx.get(), chain[0], at));
}

}  // namespace certagent::protocol
