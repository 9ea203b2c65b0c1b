#include "protocol/http/wire.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace certagent::protocol {

namespace {

constexpr std::size_t kMaxChunkLine = 4096;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// True when the comma-separated header value lists `token`.
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::unexpected<Error> malformed(std::string_view what) {
  return fail(ErrorKind::Transport, fmt::format("malformed HTTP response: {}", what));
}

// Pops one line (without its CRLF or LF) off the front of `in`, if complete.
std::optional<std::string> pop_line(std::string& in) {
  auto lf = in.find('\n');
  if (lf == std::string::npos) return std::nullopt;
  std::string line = in.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  in.erase(0, lf + 1);
  return line;
}

}  // namespace

Result<UrlParts> split_https_url(std::string_view url) {
  constexpr std::size_t kScheme = 8;  // "https://"
  if (!is_https_url(url)) return fail(ErrorKind::Invalid, fmt::format("not an https:// URL: {}", url));
  auto rest = url.substr(kScheme);
  auto end = rest.find_first_of("/?#");
  UrlParts parts;
  parts.authority = std::string(rest.substr(0, end));
  std::string_view target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  target = target.substr(0, target.find('#'));
  parts.target = target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  std::string_view auth = parts.authority;
  std::string_view port;
  if (auth.starts_with("[")) {
    auto close = auth.find(']');
    parts.host = std::string(auth.substr(1, close - 1));
    if (close + 1 < auth.size()) {
      if (auth[close + 1] != ':') return fail(ErrorKind::Invalid, fmt::format("bad authority in {}", url));
      port = auth.substr(close + 2);
    }
  } else {
    auto colon = auth.rfind(':');
    parts.host = std::string(auth.substr(0, colon));
    if (colon != std::string_view::npos) port = auth.substr(colon + 1);
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535)
      return fail(ErrorKind::Invalid, fmt::format("bad port in {}", url));
    parts.port = static_cast<std::uint16_t>(value);
  }
  if (parts.host.empty()) return fail(ErrorKind::Invalid, fmt::format("no host in {}", url));
  return parts;
}

const char* method_name(Method m) {
  switch (m) {
    case Method::Get: return "GET";
    case Method::Head: return "HEAD";
    case Method::Post: return "POST";
  }
  return "?";
}

std::string serialize_request(const HttpRequest& request, const UrlParts& url, std::string_view user_agent) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\n",
                                method_name(request.method), url.target, url.authority, user_agent);
  if (!request.content_type.empty()) out += fmt::format("Content-Type: {}\r\n", request.content_type);
  if (request.method == Method::Post) out += fmt::format("Content-Length: {}\r\n", request.body.size());
  for (const auto& h : request.headers) out += fmt::format("{}: {}\r\n", h.name, h.value);
  out += "\r\n";
  if (request.method == Method::Post) out += request.body;
  return out;
}

Result<void> ResponseParser::feed(std::string& in) {
  if (!in.empty()) started_ = true;
  while (stage_ != Stage::Done) {
    auto progressed = step(in);
    if (!progressed) return std::unexpected(progressed.error());
    if (!*progressed) break;
  }
  return ok();
}

Result<bool> ResponseParser::step(std::string& in) {
  switch (stage_) {
    case Stage::Head: {
      auto end = in.find("\r\n\r\n");
      std::size_t len = end == std::string::npos ? std::string::npos : end + 4;
      if (end == std::string::npos && (end = in.find("\n\n")) != std::string::npos) len = end + 2;
      if (header_bytes_ + (len == std::string::npos ? in.size() : len) > max_header_)
        return fail(ErrorKind::Transport, fmt::format("the response headers exceed the limit of {} bytes", max_header_));
      if (len == std::string::npos) return false;
      header_bytes_ += len;
      std::string head = in.substr(0, len);
      in.erase(0, len);
      if (auto parsed = parse_head(head); !parsed) return std::unexpected(parsed.error());
      if (response_.status >= 100 && response_.status < 200) {  // interim (100, 103): the real one follows
        response_ = {};
        return true;
      }
      if (auto body = start_body(); !body) return std::unexpected(body.error());
      return true;
    }
    case Stage::Body:
    case Stage::ChunkData:
    case Stage::UntilClose: {
      if (in.empty()) return false;
      const std::size_t n = stage_ == Stage::UntilClose ? in.size() : std::min(remaining_, in.size());
      if (auto added = add_body(in, n); !added) return std::unexpected(added.error());
      if (stage_ != Stage::UntilClose && (remaining_ -= n) == 0)
        stage_ = stage_ == Stage::Body ? Stage::Done : Stage::ChunkEnd;
      return true;
    }
    case Stage::ChunkEnd: {
      auto line = pop_line(in);
      if (!line) return in.size() > 2 ? malformed("no CRLF after a chunk") : Result<bool>{false};
      if (!line->empty()) return malformed("no CRLF after a chunk");
      stage_ = Stage::ChunkSize;
      return true;
    }
    case Stage::ChunkSize: return step_chunk_size(in);
    case Stage::Trailers: return step_trailers(in);
    case Stage::Done: return false;
  }
  return false;
}

Result<bool> ResponseParser::step_chunk_size(std::string& in) {
  auto line = pop_line(in);
  if (!line) return in.size() > kMaxChunkLine ? malformed("chunk size line too long") : Result<bool>{false};
  std::string_view digits = trim(std::string_view(*line).substr(0, line->find(';')));
  std::uint64_t size = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
  if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size())
    return malformed(fmt::format("bad chunk size '{}'", digits.substr(0, 40)));
  if (size > max_body_ - response_.body.size())
    return fail(ErrorKind::Transport, fmt::format("the response body exceeds the limit of {} bytes", max_body_));
  remaining_ = static_cast<std::size_t>(size);
  stage_ = size == 0 ? Stage::Trailers : Stage::ChunkData;
  return true;
}

Result<bool> ResponseParser::step_trailers(std::string& in) {
  const std::size_t before = in.size();
  auto line = pop_line(in);
  header_bytes_ += before - in.size();
  if (header_bytes_ + (line ? 0 : in.size()) > max_header_)
    return fail(ErrorKind::Transport, fmt::format("the response headers exceed the limit of {} bytes", max_header_));
  if (!line) return false;
  if (line->empty()) stage_ = Stage::Done;
  return true;
}

Result<void> ResponseParser::parse_head(std::string_view head) {
  auto eol = head.find('\n');
  std::string_view status_line = trim(head.substr(0, eol));
  // "HTTP/1.1 200 OK": version, a space, three digits, then an optional reason.
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ')
    return malformed(fmt::format("bad status line '{}'", status_line.substr(0, 80)));
  int status = 0;
  auto code = status_line.substr(9, 3);
  auto [p, ec] = std::from_chars(code.data(), code.data() + 3, status);
  if (ec != std::errc{} || p != code.data() + 3 || status < 100 || status > 599 ||
      (status_line.size() > 12 && status_line[12] != ' '))
    return malformed(fmt::format("bad status line '{}'", status_line.substr(0, 80)));
  response_.status = status;
  keep_alive_ = status_line[7] == '1';  // HTTP/1.0 closes unless it says keep-alive
  head.remove_prefix(eol + 1);
  while (!head.empty()) {
    auto next = head.find('\n');
    std::string_view line = head.substr(0, next);
    head.remove_prefix(next == std::string_view::npos ? head.size() : next + 1);
    if (trim(line).empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
      if (response_.headers.empty()) return malformed("a folded line before any header");
      response_.headers.back().value.append(" ").append(trim(line));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || trim(line.substr(0, colon)).size() != colon)
      return malformed(fmt::format("bad header line '{}'", line.substr(0, 80)));
    response_.headers.push_back({std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
  }
  return ok();
}

Result<void> ResponseParser::start_body() {
  bool close = false;
  for (const auto& v : response_.headers_named("connection")) {
    close = close || lists_token(v, "close");
    keep_alive_ = keep_alive_ || lists_token(v, "keep-alive");
  }
  if (close) keep_alive_ = false;
  const int s = response_.status;
  if (head_ || s == 204 || s == 304) {
    stage_ = Stage::Done;
    return ok();
  }
  if (auto te = response_.header("transfer-encoding")) {
    auto last = std::string_view(*te).substr(te->rfind(',') == std::string::npos ? 0 : te->rfind(',') + 1);
    stage_ = iequals(trim(last), "chunked") ? Stage::ChunkSize : Stage::UntilClose;
    if (stage_ == Stage::UntilClose) keep_alive_ = false;
    return ok();
  }
  auto lengths = response_.headers_named("content-length");
  if (lengths.empty()) {
    stage_ = Stage::UntilClose;
    keep_alive_ = false;
    return ok();
  }
  std::uint64_t length = 0;
  for (const auto& v : lengths) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || (&v != &lengths.front() && n != length))
      return malformed(fmt::format("bad Content-Length '{}'", v.substr(0, 40)));
    length = n;
  }
  if (length > max_body_)
    return fail(ErrorKind::Transport, fmt::format("the response body exceeds the limit of {} bytes", max_body_));
  remaining_ = static_cast<std::size_t>(length);
  stage_ = remaining_ == 0 ? Stage::Done : Stage::Body;
  return ok();
}

Result<void> ResponseParser::add_body(std::string& in, std::size_t n) {
  if (response_.body.size() + n > max_body_)
    return fail(ErrorKind::Transport, fmt::format("the response body exceeds the limit of {} bytes", max_body_));
  response_.body.append(in, 0, n);
  in.erase(0, n);
  return ok();
}

Result<void> ResponseParser::finish_at_close() {
  if (stage_ == Stage::UntilClose) {
    stage_ = Stage::Done;
    return ok();
  }
  if (stage_ == Stage::Done) return ok();
  return fail(ErrorKind::Transport, "the connection closed before the response was complete", true);
}

}  // namespace certagent::protocol
