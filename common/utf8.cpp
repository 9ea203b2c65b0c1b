#include "common/utf8.hpp"

namespace certagent {

std::size_t utf8_sequence_length(std::string_view in, std::size_t i) {
  if (i >= in.size()) return 0;
  const auto byte = [&](std::size_t k) { return i + k < in.size() ? static_cast<unsigned char>(in[i + k]) : 0u; };
  const unsigned lead = byte(0);
  if (lead < 0x80) return 1;
  struct Form { unsigned lead_lo, lead_hi; std::size_t length; unsigned second_lo, second_hi; };
  static constexpr Form forms[] = {
      {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
      {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
      {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F}};
  for (const Form& f : forms) {
    if (lead < f.lead_lo || lead > f.lead_hi) continue;
    if (byte(1) < f.second_lo || byte(1) > f.second_hi) return 0;
    for (std::size_t k = 2; k < f.length; ++k)
      if ((byte(k) & 0xC0) != 0x80) return 0;
    return f.length;
  }
  return 0;
}

}  // namespace certagent
