// certagent::normalize_dns_name. Invariants: the result is lower-case LDH labels (or a
// left-most "*"), at most 253 octets, without a trailing dot; normalizing it again changes
// nothing; the input differs from it only in case and one trailing dot.
#include "common/dns_name.hpp"
#include "fuzz_check.hpp"

#include <cctype>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = certagent::fuzz::as_text(data, size);
  auto name = certagent::normalize_dns_name(in);
  if (!name) {
    FUZZ_CHECK(certagent::fuzz::clean_message(name.error().message));
    return 0;
  }
  FUZZ_CHECK(!name->empty() && name->size() <= 253);
  FUZZ_CHECK(name->back() != '.' && name->front() != '.');
  for (std::size_t i = 0; i < name->size(); ++i) {
    const char c = (*name)[i];
    const bool ldh = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    FUZZ_CHECK(ldh || (c == '*' && i == 0 && (name->size() == 1 || (*name)[1] == '.')));
  }
  auto again = certagent::normalize_dns_name(*name);
  FUZZ_CHECK(again && *again == *name);
  const std::string_view stem = in.ends_with('.') ? in.substr(0, in.size() - 1) : in;
  FUZZ_CHECK(stem.size() == name->size());
  for (std::size_t i = 0; i < stem.size(); ++i)
    FUZZ_CHECK(std::tolower(static_cast<unsigned char>(stem[i])) == (*name)[i]);
  return 0;
}
