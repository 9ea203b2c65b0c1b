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

// Error messages reach logs and terminals: untrusted text in them must arrive escaped, so a
// message is printable ASCII only (no ESC, no line break, no raw UTF-8 from the input).
inline bool printable_ascii(std::string_view message) {
  for (unsigned char c : message)
    if (c < 0x20 || c > 0x7e) return false;
  return !message.empty();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace certagent::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::certagent::fuzz::invariant_failed(#cond, __FILE__, __LINE__))
