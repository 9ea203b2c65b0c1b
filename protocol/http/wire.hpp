#pragma once
// HTTP/1.1 on the wire, without any I/O (RFC 9112): the parts of an https://
// URL, the request's bytes, and an incremental response parser that frames
// the body (Content-Length, chunked, or until the connection closes) and
// enforces the header and body caps. https_transport.cpp feeds it the bytes
// it reads; unit tests feed it text.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "protocol/http/http.hpp"

namespace certagent::protocol {

// An https:// URL taken apart (it must have passed is_https_url).
struct UrlParts {
  std::string host;       // without brackets for an IPv6 literal; as written otherwise
  std::uint16_t port = 443;
  std::string authority;  // host[:port] as the Host header carries it
  std::string target;     // path and query, "/" when empty; never the fragment
};
[[nodiscard]] Result<UrlParts> split_https_url(std::string_view url);

[[nodiscard]] const char* method_name(Method m);

// The request's bytes: request line, Host, User-Agent, Content-Type,
// Content-Length (POST), the caller's headers, the blank line and the body.
// Persistent (HTTP/1.1 keep-alive), no Expect: 100-continue.
[[nodiscard]] std::string serialize_request(const HttpRequest& request, const UrlParts& url,
                                            std::string_view user_agent);

// Reads one response. feed() takes the bytes read so far and consumes what
// belongs to this response (it keeps what it needs); once done() the
// response is complete and any bytes after it stay unconsumed.
class ResponseParser {
 public:
  ResponseParser(bool head_request, std::size_t max_header_bytes, std::size_t max_body_bytes)
      : head_(head_request), max_header_(max_header_bytes), max_body_(max_body_bytes) {}

  // Consumes a prefix of `in` (erasing it). Fails on malformed input or a cap
  // exceeded (the message says which: "...exceed(s) the limit of N bytes").
  [[nodiscard]] Result<void> feed(std::string& in);
  // The peer closed the connection: completes a body delimited by the close;
  // otherwise the response was cut short (an error).
  [[nodiscard]] Result<void> finish_at_close();

  [[nodiscard]] bool done() const { return stage_ == Stage::Done; }
  [[nodiscard]] bool started() const { return started_; }
  // HTTP/1.1 without "Connection: close" and a framed body.
  [[nodiscard]] bool keep_alive() const { return keep_alive_; }
  [[nodiscard]] HttpResponse take() { return std::move(response_); }

 private:
  enum class Stage { Head, Body, ChunkSize, ChunkData, ChunkEnd, Trailers, UntilClose, Done };
  [[nodiscard]] Result<void> parse_head(std::string_view head);
  [[nodiscard]] Result<void> start_body();
  [[nodiscard]] Result<void> add_body(std::string& in, std::size_t n);
  [[nodiscard]] Result<bool> step(std::string& in);
  [[nodiscard]] Result<bool> step_chunk_size(std::string& in);
  [[nodiscard]] Result<bool> step_trailers(std::string& in);

  bool head_;
  std::size_t max_header_;
  std::size_t max_body_;
  std::size_t header_bytes_ = 0;
  Stage stage_ = Stage::Head;
  bool started_ = false;
  bool keep_alive_ = true;
  std::size_t remaining_ = 0;  // of the Content-Length body or the current chunk
  HttpResponse response_;
};

}  // namespace certagent::protocol
