// protocol::parse_directory (RFC 8555 §7.1.1, profiles, RFC 9773 renewalInfo). Invariants:
// an accepted directory has the three required resources, at most 64 CAA identities and
// profiles; a refusal is a Protocol error whose message is clean text.
#include "fuzz_check.hpp"
#include "protocol/acme/directory.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  constexpr std::string_view url = "https://ca.example/acme/directory";
  auto dir = p::parse_directory(certagent::fuzz::as_text(data, size), url);
  if (!dir) {
    FUZZ_CHECK(dir.error().kind == certagent::ErrorKind::Protocol);
    FUZZ_CHECK(certagent::fuzz::clean_text(dir.error().message) && !dir.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(dir->url == url);
  FUZZ_CHECK(!dir->new_nonce.empty() && !dir->new_account.empty() && !dir->new_order.empty());
  FUZZ_CHECK(dir->caa_identities.size() <= 64 && dir->profiles.size() <= 64);
  return 0;
}
