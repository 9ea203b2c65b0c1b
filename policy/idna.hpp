#pragma once
// The A-label (xn--) form of an internationalised name, for error messages:
// a policy must spell such names in A-label form, and the message tells the
// user what to write. Punycode per RFC 3492; no Unicode normalisation or case
// mapping beyond ASCII is done, so the suggestion assumes NFC lower-case input.
#include <optional>
#include <string>
#include <string_view>

namespace certagent::policy {

// nullopt when the text is not valid UTF-8 or a label cannot be encoded.
[[nodiscard]] std::optional<std::string> to_a_label_form(std::string_view unicode_name);

}  // namespace certagent::policy
