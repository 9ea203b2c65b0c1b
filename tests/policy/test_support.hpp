#pragma once
// Helpers shared by the policy tests.
#include <string>
#include <string_view>

namespace certagent::policy::test {

// "FILE:LINE:COLUMN: " of the first occurrence of `needle` in `text`, counted
// naively (ASCII texts) — an independent check of the scanner's positions.
inline std::string location_of(std::string_view file, std::string_view text, std::string_view needle) {
  size_t at = text.find(needle);
  if (at == std::string_view::npos) return "<needle '" + std::string(needle) + "' not in text>";
  int line = 1, column = 1;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return std::string(file) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

// A small valid Lync policy; `role` is spliced into the one role object and
// `top` replaces the sip_domains line.
inline std::string lync_policy(std::string_view role = R"("server_fqdn": "se01.contoso.net")",
                               std::string_view top = R"("sip_domains": ["contoso.com"],)") {
  return std::string("{\n\"ca\": {\"directory\": \"https://ca.contoso.net/acme/directory\"},\n") + std::string(top) +
         "\n\"roles\": [{\"role\": \"front-end-standard\", " + std::string(role) + "}]\n}\n";
}

}  // namespace certagent::policy::test
