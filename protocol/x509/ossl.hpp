#pragma once
// Ownership of OpenSSL objects: one unique_ptr alias per type, with the type's
// own free function as deleter. No raw owning pointer leaves a function.
#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/error.hpp"

namespace certagent::ossl {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

inline void free_bio(BIO* b) { BIO_free_all(b); }
inline void free_ossl_str(char* s) { OPENSSL_free(s); }
inline void free_general_names(GENERAL_NAMES* g) { GENERAL_NAMES_free(g); }
inline void free_x509_stack(STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); }
inline void free_ext_stack(STACK_OF(X509_EXTENSION)* s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }

// Keys, digests and signatures.
using PKey = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PKeyCtx = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtx = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using Bignum = Ptr<BIGNUM, BN_free>;
using EcdsaSig = Ptr<ECDSA_SIG, ECDSA_SIG_free>;
// Certificates, chains and their verification.
using X509Ptr = Ptr<X509, X509_free>;
using X509Stack = Ptr<STACK_OF(X509), free_x509_stack>;
using X509Store = Ptr<X509_STORE, X509_STORE_free>;
using X509StoreCtx = Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
// Requests and extensions.
using X509Req = Ptr<X509_REQ, X509_REQ_free>;
using X509Ext = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using X509ExtStack = Ptr<STACK_OF(X509_EXTENSION), free_ext_stack>;
using GeneralNames = Ptr<GENERAL_NAMES, free_general_names>;
// Containers: memory and file I/O, strings OpenSSL allocated, PKCS#12 bundles.
using Bio = Ptr<BIO, free_bio>;
using OsslString = Ptr<char, free_ossl_str>;
using Pkcs12 = Ptr<PKCS12, PKCS12_free>;
// TLS, for the tests' own clients (the agent's TLS is libcurl's).
using SslCtx = Ptr<SSL_CTX, SSL_CTX_free>;
using Ssl = Ptr<SSL, SSL_free>;

// Drains OpenSSL's thread-local error queue into one line ("a; b; c").
// Returns "no detail from OpenSSL" when the queue is empty.
[[nodiscard]] std::string drain_errors();

// An Error of kind Crypto: "<what>: <OpenSSL's queue>".
[[nodiscard]] Error crypto_error(const std::string& what);

// A read-only memory BIO over `data` (which must outlive the BIO).
[[nodiscard]] Bio mem_bio(std::string_view data);
// Everything written into a memory BIO, as a string.
[[nodiscard]] std::string bio_to_string(BIO* bio);

}  // namespace certagent::ossl
