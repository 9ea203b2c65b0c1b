#include "protocol/x509/base64.hpp"

#include <array>

namespace certagent::protocol {
namespace {

constexpr std::string_view kStd = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 3 <= in.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    unsigned v = byte(i) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

// value of c in the url alphabet, the standard one, or both; -1 if none.
int value_of(char c, bool allow_std, bool allow_url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (allow_std && c == '+') return 62;
  if (allow_std && c == '/') return 63;
  if (allow_url && c == '-') return 62;
  if (allow_url && c == '_') return 63;
  return -1;
}

Result<std::string> decode(std::string_view in, bool allow_std, bool allow_url) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return fail(ErrorKind::Invalid, "base64 text has an impossible length");
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value_of(c, allow_std, allow_url);
    if (v < 0) return fail(ErrorKind::Invalid, "base64 text contains a character outside its alphabet");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) { return encode(bytes, kUrl, false); }
std::string base64_encode(std::string_view bytes) { return encode(bytes, kStd, true); }
Result<std::string> base64url_decode(std::string_view text) { return decode(text, false, true); }
Result<std::string> base64_any_decode(std::string_view text) { return decode(text, true, true); }

bool is_base64url(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (value_of(c, false, true) < 0) return false;
  return true;
}

}  // namespace certagent::protocol
