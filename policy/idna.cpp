#include "policy/idna.hpp"

#include <cctype>
#include <cstdint>
#include <vector>

namespace certagent::policy {
namespace {

// RFC 3492 §5 parameters.
constexpr std::uint32_t kBase = 36, kTMin = 1, kTMax = 26, kSkew = 38, kDamp = 700;
constexpr std::uint32_t kInitialBias = 72, kInitialN = 128;

std::optional<std::vector<std::uint32_t>> decode_utf8(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= s.size()) return std::nullopt;
    std::uint32_t cp = extra == 0 ? c : (c & (0x3F >> extra));
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

char digit(std::uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26)); }

std::uint32_t adapt(std::uint32_t delta, std::uint32_t points, bool first) {
  delta = first ? delta / kDamp : delta / 2;
  delta += delta / points;
  std::uint32_t k = 0;
  while (delta > ((kBase - kTMin) * kTMax) / 2) {
    delta /= kBase - kTMin;
    k += kBase;
  }
  return k + (kBase - kTMin + 1) * delta / (delta + kSkew);
}

void encode_delta(std::string& out, std::uint32_t q, std::uint32_t bias) {
  for (std::uint32_t k = kBase;; k += kBase) {
    std::uint32_t t = k <= bias ? kTMin : k >= bias + kTMax ? kTMax : k - bias;
    if (q < t) break;
    out += digit(t + (q - t) % (kBase - t));
    q = (q - t) / (kBase - t);
  }
  out += digit(q);
}

std::optional<std::string> punycode(const std::vector<std::uint32_t>& in) {
  std::string out;
  for (auto c : in)
    if (c < 0x80) out += static_cast<char>(std::tolower(static_cast<int>(c)));
  const auto basic = static_cast<std::uint32_t>(out.size());
  if (basic > 0) out += '-';
  std::uint32_t n = kInitialN, delta = 0, bias = kInitialBias, handled = basic;
  while (handled < in.size()) {
    std::uint32_t m = UINT32_MAX;
    for (auto c : in)
      if (c >= n && c < m) m = c;
    if ((m - n) > (UINT32_MAX - delta) / (handled + 1)) return std::nullopt;
    delta += (m - n) * (handled + 1);
    n = m;
    for (auto c : in) {
      if (c < n) ++delta;
      if (c != n) continue;
      encode_delta(out, delta, bias);
      bias = adapt(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return out;
}

}  // namespace

std::optional<std::string> to_a_label_form(std::string_view name) {
  std::string out;
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    auto cps = decode_utf8(label);
    if (!cps) return std::nullopt;
    bool ascii = true;
    for (auto c : *cps) ascii = ascii && c < 0x80;
    if (ascii) {
      for (char c : label) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      auto encoded = punycode(*cps);
      if (!encoded) return std::nullopt;
      out += "xn--" + *encoded;
    }
    if (dot == std::string_view::npos) break;
    out += '.';
    start = dot + 1;
  }
  return out;
}

}  // namespace certagent::policy
