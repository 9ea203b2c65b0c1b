#include "protocol/http/http.hpp"

#include <cctype>

namespace certagent::protocol {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

bool is_https_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.size() > 4096 || url.size() <= kScheme.size() || !iequals(url.substr(0, kScheme.size()), kScheme))
    return false;
  for (char c : url) {
    if (c <= 0x20 || c >= 0x7f || std::string_view("<>\"\\{}|^`").find(c) != std::string_view::npos) return false;
  }
  auto authority_end = url.find_first_of("/?#", kScheme.size());
  auto authority = url.substr(kScheme.size(), authority_end == std::string_view::npos
                                                  ? std::string_view::npos
                                                  : authority_end - kScheme.size());
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    return close != std::string_view::npos && close > 1;
  }
  return authority.find(':') != 0;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

std::vector<std::string> HttpResponse::headers_named(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& h : headers)
    if (iequals(h.name, name)) out.push_back(h.value);
  return out;
}

}  // namespace certagent::protocol
