// protocol::PrivateKey::from_pem on arbitrary text. Invariants: an accepted key writes PKCS#8
// PEM that reads back as a key of the same type with the same public half; a refusal says why.
#include "fuzz_check.hpp"
#include "protocol/x509/keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using certagent::protocol::PrivateKey;
  auto key = PrivateKey::from_pem(certagent::fuzz::as_text(data, size));
  if (!key) {
    FUZZ_CHECK(certagent::fuzz::clean_message(key.error().message));
    return 0;
  }
  auto pem = key->to_pem();
  auto pub = key->public_pem();
  FUZZ_CHECK(pem && pub);
  auto again = PrivateKey::from_pem(*pem);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->type() == key->type());
  auto pub_again = again->public_pem();
  FUZZ_CHECK(pub_again && *pub_again == *pub);
  return 0;
}
