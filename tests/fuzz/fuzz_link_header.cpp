// protocol::parse_link_headers (RFC 8288 §3). The first input byte picks the request URL,
// the rest is split at '\n' into header values. Invariants: at most kMaxLinks links; every
// target is absolute, printable ASCII without spaces; every relation type is non-empty,
// lower-case and without spaces; written back as `<url>; rel="..."` (when that fits the size
// limit) the links parse to the same list; a refusal is a Protocol error that says why.
#include <array>
#include <cctype>

#include "fuzz_check.hpp"
#include "protocol/acme/link_header.hpp"

namespace {

constexpr std::array<std::string_view, 5> kRequestUrls = {
    "https://ca.example/acme/order/1", "https://ca.example:14000/dir?x=1#f", "https://ca.example", "", "not a url"};

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    std::size_t nl = s.find('\n', start);
    out.emplace_back(s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) return out;
    start = nl + 1;
  }
}

std::string written_back(const std::vector<certagent::protocol::Link>& links) {
  std::string out;
  for (const auto& link : links) {
    if (!out.empty()) out += ", ";
    out += "<" + link.url + ">; rel=\"";
    for (char c : link.rel) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  if (size == 0) return 0;
  const std::string_view request_url = kRequestUrls[data[0] % kRequestUrls.size()];
  const auto values = split_lines(certagent::fuzz::as_text(data + 1, size - 1));
  auto links = p::parse_link_headers(values, request_url);
  if (!links) {
    FUZZ_CHECK(links.error().kind == certagent::ErrorKind::Protocol);
    FUZZ_CHECK(certagent::fuzz::clean_message(links.error().message));
    return 0;
  }
  FUZZ_CHECK(links->size() <= p::kMaxLinks);
  for (const auto& link : *links) {
    FUZZ_CHECK(link.url.find("://") != std::string::npos || link.url.find(':') != std::string::npos);
    for (char c : link.url) FUZZ_CHECK(c > 0x20 && c < 0x7f);
    FUZZ_CHECK(!link.rel.empty());
    for (unsigned char c : link.rel) {
      FUZZ_CHECK(c != ' ' && c != '\t');
      FUZZ_CHECK(std::tolower(c) == c);
    }
    FUZZ_CHECK(p::first_link_with_rel(*links, link.rel).has_value());
  }
  const std::string back = written_back(*links);
  if (back.size() > p::kMaxLinkHeaderBytes) return 0;  // rel="a b ..." repeats the target per relation
  auto again = p::parse_link_headers({back}, request_url);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *links);
  return 0;
}
