#pragma once
// DNS name normalisation and validation, shared by policy/ and protocol/.
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent {

// Lower-cases, strips one trailing dot and validates a DNS name as a SAN:
// letters/digits/hyphen labels of 1..63 octets, at most 253 octets in all,
// no leading/trailing hyphen, a wildcard only as the whole left-most label,
// internationalised names only in A-label (xn--) form.
[[nodiscard]] Result<std::string> normalize_dns_name(std::string_view name);

}  // namespace certagent
