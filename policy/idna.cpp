#include "policy/idna.hpp"

#include <idn2.h>

#include <memory>

namespace certagent::policy {

Result<std::string> to_a_label_form(std::string_view name) {
  std::string_view wildcard = name.starts_with("*.") ? name.substr(0, 2) : std::string_view{};
  const std::string input(name.substr(wildcard.size()));
  char* raw = nullptr;
  // Non-transitional (IDNA2008's answer: "ß" stays "ß"), after NFC normalisation of the input.
  const int rc = idn2_to_ascii_8z(input.c_str(), &raw, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  const std::unique_ptr<char, decltype(&idn2_free)> out(raw, &idn2_free);
  if (rc != IDN2_OK) return fail(ErrorKind::Invalid, std::string("libidn2 cannot convert it: ") + idn2_strerror(rc));
  return std::string(wildcard) + out.get();
}

}  // namespace certagent::policy
