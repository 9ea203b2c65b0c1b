#pragma once
// base64url without padding (RFC 4648 §5, as JOSE and ACME use it) and
// standard base64 (for PEM bodies and MAC keys given in either alphabet).
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent::protocol {

[[nodiscard]] std::string base64url_encode(std::string_view bytes);
// Accepts base64url with or without padding; refuses any other character.
[[nodiscard]] Result<std::string> base64url_decode(std::string_view text);
// Accepts either alphabet (+/ or -_), with or without padding — for MAC keys
// that operators paste in whatever form the CA printed.
[[nodiscard]] Result<std::string> base64_any_decode(std::string_view text);
[[nodiscard]] std::string base64_encode(std::string_view bytes);
// True when `s` is non-empty and uses only the base64url alphabet (no padding).
[[nodiscard]] bool is_base64url(std::string_view s);

}  // namespace certagent::protocol
