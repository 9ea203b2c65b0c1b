#include "common/escape.hpp"

#include <fmt/format.h>

#include "common/utf8.hpp"

namespace certagent {
namespace {

// The code point of the well-formed sequence of `len` bytes at `s`.
char32_t decode(std::string_view s, std::size_t len) {
  const auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[k])); };
  switch (len) {
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

bool hidden(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string escape_control(std::string_view text, std::size_t max_bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = utf8_sequence_length(text, i);
    const std::size_t width = len == 0 ? 1 : len;
    if (i + width > max_bytes) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (len > 1) {
      const char32_t cp = decode(text.substr(i), len);
      if (hidden(cp)) out += fmt::format("\\u{{{:04x}}}", static_cast<std::uint32_t>(cp));
      else out.append(text.substr(i, len));
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (len == 0 || c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
    i += width;
  }
  if (i < text.size()) out += "...";
  return out;
}

}  // namespace certagent
