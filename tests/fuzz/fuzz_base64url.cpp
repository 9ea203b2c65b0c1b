// protocol::base64url_decode and base64_any_decode. Invariants: decoded bytes re-encode to
// base64url that decodes to the same bytes; whatever the url alphabet accepts, the lenient
// decoder accepts with the same bytes; the output length is 3/4 of the unpadded input.
#include "fuzz_check.hpp"
#include "protocol/x509/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  const std::string_view in = certagent::fuzz::as_text(data, size);
  auto any = p::base64_any_decode(in);
  auto bytes = p::base64url_decode(in);
  if (!bytes) {
    FUZZ_CHECK(certagent::fuzz::clean_message(bytes.error().message));
    return 0;
  }
  FUZZ_CHECK(any && *any == *bytes);
  std::string_view unpadded = in;
  while (unpadded.ends_with('=')) unpadded.remove_suffix(1);
  FUZZ_CHECK(bytes->size() == unpadded.size() * 3 / 4);
  const std::string encoded = p::base64url_encode(*bytes);
  FUZZ_CHECK(encoded.empty() == bytes->empty());
  FUZZ_CHECK(encoded.empty() || p::is_base64url(encoded));
  auto again = p::base64url_decode(encoded);
  FUZZ_CHECK(again && *again == *bytes);
  auto std_again = p::base64_any_decode(p::base64_encode(*bytes));
  FUZZ_CHECK(std_again && *std_again == *bytes);
  return 0;
}
