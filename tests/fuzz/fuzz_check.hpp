#pragma once
// Invariant checks inside libFuzzer targets: a broken invariant prints what broke and aborts,
// which libFuzzer reports as a crash and saves the input as the reproducer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace certagent::fuzz {

[[noreturn]] inline void invariant_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", file, line, what);
  std::abort();
}

// Error messages reach logs and terminals: untrusted text in them arrives escaped
// (common/escape.hpp), so a message is clean text (below) and not empty. Printable UTF-8 from
// the input is allowed — names are shown as written ("münchen.example").
inline bool clean_text(std::string_view s);
inline bool clean_message(std::string_view message) { return !message.empty() && clean_text(message); }

// Text that may carry the input's UTF-8 but nothing a terminal obeys: valid UTF-8 without C0
// controls, DEL, C1 controls (U+0080..U+009F) or the bidirectional overrides and isolates
// (U+202A..U+202E, U+2066..U+2069).
inline bool clean_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    const std::size_t n = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) return false;
    if (n == 3 && c == 0xE2) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]), b2 = static_cast<unsigned char>(s[i + 2]);
      if ((b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) || (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9)) return false;
    }
    i += n;
  }
  return true;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace certagent::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::certagent::fuzz::invariant_failed(#cond, __FILE__, __LINE__))
