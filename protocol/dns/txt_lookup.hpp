#pragma once
// Read-only DNS: the TXT records at one name, through ldns, from the configured resolver
// (or /etc/resolv.conf's). certagent never writes DNS for dns-persist-01.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace certagent::protocol {

struct TxtLookupOptions {
  std::optional<std::string> resolver;  // "HOST:PORT"; unset: the system's resolvers
  int timeout_seconds = 3;              // per try; ldns tries twice
};

// Every TXT value at `name` (each record's character-strings joined, as the CA joins them);
// empty when the name does not exist or has no TXT record. Transport when no resolver
// answers or it answers SERVFAIL/REFUSED: the records are then unknown, not missing.
[[nodiscard]] Result<std::vector<std::string>> lookup_txt(std::string_view name, const TxtLookupOptions& options);

}  // namespace certagent::protocol
