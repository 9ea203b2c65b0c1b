#pragma once
// Untrusted text (CA strings, hook output) on its way into a log line or an
// error message: no terminal escape sequence or line break gets through raw.
#include <cstddef>
#include <string>
#include <string_view>

namespace certagent {

// Makes untrusted text safe for one log line: control characters, DEL and
// bytes >= 0x80 become \xNN (\n, \r, \t as such), backslash becomes "\\";
// longer text is cut at max_bytes (of input) and marked with "...".
[[nodiscard]] std::string escape_control(std::string_view text, std::size_t max_bytes = 4096);

}  // namespace certagent
