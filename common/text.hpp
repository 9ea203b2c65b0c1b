#pragma once
// Small ASCII text helpers every module uses, written once.
#include <string>
#include <string_view>

namespace certagent {

// A-Z to a-z; every other byte as it is (DNS names, hex digits, header and parameter names).
[[nodiscard]] std::string ascii_lower(std::string_view s);

// Without leading and trailing spaces and tabs (HTTP's optional whitespace, RFC 9110 §5.6.3).
[[nodiscard]] std::string_view trim(std::string_view s);

// A DNS name compared as DNS compares it: lower-cased, without one trailing dot. (For a name
// that must also be valid, common/dns_name.hpp's normalize_dns_name.)
[[nodiscard]] std::string canonical_dns_name(std::string_view name);

}  // namespace certagent
