#pragma once
// Link headers (RFC 8288 §3), as ACME uses them: rel="up" from an
// authorization or certificate to its issuer/order, rel="index" to the
// directory, rel="alternate" for alternate certificate chains (RFC 8555 §7.4.2).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/http/http.hpp"

namespace certagent::protocol {

inline constexpr std::string_view kRelAlternate = "alternate";
inline constexpr std::string_view kRelUp = "up";
inline constexpr std::string_view kRelIndex = "index";

// One (target, relation type) pair. A link with rel="a b" yields two.
struct Link {
  std::string url;  // absolute; resolved against the request URL when given as "/path"
  std::string rel;  // one relation type, lower-cased
  bool operator==(const Link&) const = default;
};

inline constexpr std::size_t kMaxLinkHeaderBytes = 64 * 1024;  // all values together
inline constexpr std::size_t kMaxLinks = 256;

// Parses every Link header value of one response, in order. Each value may hold
// several comma-separated links; parameters may be tokens or quoted strings;
// the first rel parameter of a link counts (later ones are ignored, §3.3);
// links without rel are skipped. Targets are kept when absolute
// ("scheme://..."); an absolute path ("/x", not "//x") is resolved against the
// origin of `request_url`; any other relative reference is refused, as is
// malformed syntax (unterminated "<" or quote, stray text), control
// characters, more than kMaxLinks links or kMaxLinkHeaderBytes bytes.
// Errors are ErrorKind::Protocol. The targets are NOT checked for https:
// apply is_https_url before following one.
[[nodiscard]] Result<std::vector<Link>> parse_link_headers(const std::vector<std::string>& values,
                                                          std::string_view request_url);

// Every target with this relation type (compared case-insensitively), in order.
[[nodiscard]] std::vector<std::string> links_with_rel(const std::vector<Link>& links, std::string_view rel);
// The first such target, if any.
[[nodiscard]] std::optional<std::string> first_link_with_rel(const std::vector<Link>& links, std::string_view rel);


}  // namespace certagent::protocol
