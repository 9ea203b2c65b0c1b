#include "protocol/x509/ossl.hpp"

#include <openssl/err.h>

namespace certagent::ossl {

std::string drain_errors() {
  std::string out;
  unsigned long code = 0;
  char buf[256];
  while ((code = ERR_get_error()) != 0) {
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("no detail from OpenSSL") : out;
}

Error crypto_error(const std::string& what) {
  return Error(ErrorKind::Crypto, what + ": " + drain_errors());
}

Bio mem_bio(std::string_view data) {
  return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_to_string(BIO* bio) {
  char* ptr = nullptr;
  long len = BIO_get_mem_data(bio, &ptr);
  if (len <= 0 || ptr == nullptr) return {};
  return std::string(ptr, static_cast<size_t>(len));
}

}  // namespace certagent::ossl
