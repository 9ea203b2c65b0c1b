#pragma once
// Untrusted text (CA strings, hook output, names from a policy) on its way into a log line or
// an error message: shown as written when it is printable UTF-8 ("münchen.example"), while no
// terminal escape sequence, line break or ill-formed byte gets through raw.
#include <cstddef>
#include <string>
#include <string_view>

namespace certagent {

// Makes untrusted text safe for one log line: well-formed, printable UTF-8 is kept as it is;
// C0 controls, DEL and bytes that are not well-formed UTF-8 become \xNN (\n, \r, \t as such);
// C1 controls (CSI among them) and the bidirectional overrides and isolates (U+202A..U+202E,
// U+2066..U+2069: text that reads otherwise than it is) become \u{NNNN}; backslash becomes
// "\\". Longer text is cut at max_bytes of input, between characters, and marked with "...".
// The result is valid UTF-8.
[[nodiscard]] std::string escape_control(std::string_view text, std::size_t max_bytes = 4096);

}  // namespace certagent
