#include "protocol/acme/link_header.hpp"

#include <cctype>

#include "common/escape.hpp"
#include "common/text.hpp"

namespace certagent::protocol {
namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_ows(char c) { return c == ' ' || c == '\t'; }
bool is_visible(char c) { return c > 0x20 && c < 0x7f; }


Error syntax(std::string_view what, std::string_view value) {
  return Error(ErrorKind::Protocol, "malformed Link header (" + std::string(what) + "): '" + escape_control(value, 200) + "'");
}

// "scheme://authority" of an absolute URL, or empty.
std::string_view origin_of(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return {};
  auto path = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path == std::string_view::npos ? url.size() : path);
}

bool has_scheme(std::string_view ref) {
  auto colon = ref.find(':');
  if (colon == std::string_view::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(ref[0]))) return false;
  for (char c : ref.substr(0, colon))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  return true;
}

Result<std::string> resolve(std::string_view ref, std::string_view request_url) {
  for (char c : ref)
    if (!is_visible(c)) return std::unexpected(syntax("control character or space in a target", ref));
  if (has_scheme(ref)) return std::string(ref);
  auto origin = origin_of(request_url);
  if (ref.starts_with("/") && !ref.starts_with("//") && !origin.empty()) return std::string(origin) + std::string(ref);
  return std::unexpected(syntax("relative target that is not an absolute path", ref));
}

struct Parser {
  std::string_view s;
  std::size_t i = 0;

  void skip_ows() {
    while (i < s.size() && is_ows(s[i])) ++i;
  }
  [[nodiscard]] bool at(char c) const { return i < s.size() && s[i] == c; }

  Result<std::string> quoted() {
    std::string out;
    for (++i; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        ++i;
        return out;
      }
      if (c == '\\' && ++i == s.size()) break;
      if (static_cast<unsigned char>(s[i]) < 0x20 && s[i] != '\t') return std::unexpected(syntax("control character in a quoted string", s));
      out += s[i];
    }
    return std::unexpected(syntax("unterminated quoted string", s));
  }

  std::string_view token() {
    std::size_t start = i;
    while (i < s.size() && is_tchar(s[i])) ++i;
    return s.substr(start, i - start);
  }

  // `;` param [= value]; returns the name and the value (empty when absent).
  Result<std::pair<std::string, std::string>> param() {
    ++i;  // ';'
    skip_ows();
    auto name = token();
    if (name.empty()) return std::unexpected(syntax("parameter without a name", s));
    skip_ows();
    if (!at('=')) return std::pair{ascii_lower(name), std::string()};
    ++i;
    skip_ows();
    if (at('"')) {
      auto v = quoted();
      if (!v) return std::unexpected(v.error());
      return std::pair{ascii_lower(name), *v};
    }
    auto v = token();
    if (v.empty()) return std::unexpected(syntax("parameter without a value after '='", s));
    return std::pair{ascii_lower(name), std::string(v)};
  }

  // "<" target ">" *( ";" param ), ending at "," or the end.
  Result<std::pair<std::string, std::optional<std::string>>> link() {
    if (!at('<')) return std::unexpected(syntax("expected '<'", s));
    auto close = s.find('>', i);
    if (close == std::string_view::npos) return std::unexpected(syntax("unterminated '<'", s));
    std::string target(s.substr(i + 1, close - i - 1));
    i = close + 1;
    std::optional<std::string> rel;
    for (skip_ows(); at(';'); skip_ows()) {
      auto p = param();
      if (!p) return std::unexpected(p.error());
      if (p->first == "rel" && !rel) rel = p->second;
    }
    if (i < s.size() && !at(',')) return std::unexpected(syntax("unexpected text after a link", s));
    return std::pair{std::move(target), std::move(rel)};
  }
};

Result<void> add_relations(std::vector<Link>& out, const std::string& url, std::string_view rels) {
  std::size_t i = 0;
  while (i < rels.size()) {
    while (i < rels.size() && is_ows(rels[i])) ++i;
    std::size_t start = i;
    while (i < rels.size() && !is_ows(rels[i])) ++i;
    if (i == start) break;
    if (out.size() >= kMaxLinks) return fail(ErrorKind::Protocol, "too many links in the Link headers (more than " + std::to_string(kMaxLinks) + ")");
    out.push_back(Link{url, ascii_lower(rels.substr(start, i - start))});
  }
  return ok();
}

Result<void> parse_one(std::string_view value, std::string_view request_url, std::vector<Link>& out) {
  Parser p{value};
  for (;;) {
    while (p.i < value.size() && (is_ows(value[p.i]) || value[p.i] == ',')) ++p.i;  // empty list elements
    if (p.i == value.size()) return ok();
    auto l = p.link();
    if (!l) return std::unexpected(l.error());
    if (!l->second) continue;  // no rel: nothing to follow it for
    auto url = resolve(l->first, request_url);
    if (!url) return std::unexpected(url.error());
    if (auto r = add_relations(out, *url, *l->second); !r) return r;
  }
}

}  // namespace

Result<std::vector<Link>> parse_link_headers(const std::vector<std::string>& values, std::string_view request_url) {
  std::size_t total = 0;
  for (const auto& v : values) total += v.size();
  if (total > kMaxLinkHeaderBytes)
    return fail(ErrorKind::Protocol, "Link headers too large (" + std::to_string(total) + " bytes, at most " +
                                         std::to_string(kMaxLinkHeaderBytes) + ")");
  std::vector<Link> links;
  for (const auto& v : values)
    if (auto r = parse_one(v, request_url, links); !r) return std::unexpected(r.error());
  return links;
}

std::vector<std::string> links_with_rel(const std::vector<Link>& links, std::string_view rel) {
  std::vector<std::string> out;
  std::string want = ascii_lower(rel);
  for (const auto& l : links)
    if (l.rel == want) out.push_back(l.url);
  return out;
}

std::optional<std::string> first_link_with_rel(const std::vector<Link>& links, std::string_view rel) {
  auto all = links_with_rel(links, rel);
  if (all.empty()) return std::nullopt;
  return all.front();
}


}  // namespace certagent::protocol
