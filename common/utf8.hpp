#pragma once
// UTF-8 well-formedness (Unicode table 3-7), for text that must stay valid when it is cut or
// copied into a message, a log line or a JSON file.
#include <cstddef>
#include <string_view>

namespace certagent {

// Length (1-4) of the well-formed UTF-8 sequence starting at text[i]; 0 when the bytes there
// are not one (a stray continuation byte, an overlong form, a surrogate, a truncated sequence).
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

}  // namespace certagent
