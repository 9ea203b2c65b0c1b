// HTTP/1.1 framing without sockets: URL parts, request bytes, and the
// response parser fed whole, byte by byte, chunked, capped and malformed.
#include <gtest/gtest.h>

#include "protocol/http/wire.hpp"

namespace {

using certagent::ErrorKind;
using certagent::Result;
using namespace certagent::protocol;

// Feeds `text` in pieces of `step` bytes; the parsed response or the error.
Result<HttpResponse> parse(const std::string& text, std::size_t step = 1 << 20, bool head = false,
                           std::size_t max_header = 1024, std::size_t max_body = 1024, std::string* rest = nullptr) {
  ResponseParser parser(head, max_header, max_body);
  std::string in;
  for (std::size_t i = 0; i < text.size() && !parser.done(); i += step) {
    in += text.substr(i, step);
    if (auto fed = parser.feed(in); !fed) return std::unexpected(fed.error());
  }
  if (!parser.done())
    if (auto end = parser.finish_at_close(); !end) return std::unexpected(end.error());
  if (rest != nullptr) *rest = in;
  return parser.take();
}

TEST(SplitHttpsUrl, HostPortAuthorityAndTarget) {
  auto u = split_https_url("https://ca.example:8443/dir?x=1#frag");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "ca.example");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->authority, "ca.example:8443");
  EXPECT_EQ(u->target, "/dir?x=1");
  auto plain = split_https_url("https://ca.example");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 443);
  EXPECT_EQ(plain->target, "/");
  auto query = split_https_url("https://ca.example?q");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->target, "/?q");
  auto v6 = split_https_url("https://[::1]:14000/dir");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->authority, "[::1]:14000");
}

TEST(SplitHttpsUrl, BadPortsAndSchemesAreInvalid) {
  for (const char* url : {"https://ca.example:0/", "https://ca.example:65536/", "https://ca.example:x/",
                          "http://ca.example/", "https://user@ca.example/"}) {
    auto u = split_https_url(url);
    ASSERT_FALSE(u) << url;
    EXPECT_EQ(u.error().kind, ErrorKind::Invalid) << url;
  }
}

TEST(SerializeRequest, PostCarriesLengthTypeAndHeadersAndNoExpect) {
  HttpRequest r;
  r.method = Method::Post;
  r.content_type = "application/jose+json";
  r.body = "{}";
  r.headers.push_back({"X-A", "b"});
  auto u = split_https_url("https://ca.example/new-acct");
  const std::string bytes = serialize_request(r, *u, "certagent/test");
  EXPECT_EQ(bytes,
            "POST /new-acct HTTP/1.1\r\nHost: ca.example\r\nUser-Agent: certagent/test\r\nAccept: */*\r\n"
            "Content-Type: application/jose+json\r\nContent-Length: 2\r\nX-A: b\r\n\r\n{}");
  r.method = Method::Head;
  EXPECT_EQ(serialize_request(r, *u, "ua").find("Content-Length"), std::string::npos);
}

TEST(ResponseParser, ContentLengthBodyWholeAndByteByByte) {
  const std::string text = "HTTP/1.1 201 Created\r\nLocation: /acct/1\r\nContent-Length: 5\r\n\r\nhello";
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, text.size()}) {
    auto r = parse(text, step);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->header("location").value_or(""), "/acct/1");
    EXPECT_EQ(r->body, "hello");
  }
}

TEST(ResponseParser, ChunkedBodyWithExtensionsAndTrailers) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n"
      "X-Trailer: t\r\n\r\nNEXT";
  for (std::size_t step : {std::size_t{1}, std::size_t{3}, text.size()}) {
    std::string rest;
    auto r = parse(text, step, false, 1024, 1024, &rest);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "hello world");
    if (step == text.size()) {
      EXPECT_EQ(rest, "NEXT") << "bytes after the response stay unconsumed";
    }
  }
}

TEST(ResponseParser, ChunkedBodyOverTheCapIsAnError) {
  auto r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n", 1 << 20, false, 1024, 1000);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exceeds the limit of 1000 bytes"), std::string::npos) << r.error().message;
}

TEST(ResponseParser, BadChunkSizeIsMalformed) {
  auto r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("bad chunk size"), std::string::npos) << r.error().message;
}

TEST(ResponseParser, KeepAliveFollowsVersionAndConnectionHeader) {
  ResponseParser p11(false, 1024, 1024);
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(p11.feed(in));
  EXPECT_TRUE(p11.done());
  EXPECT_TRUE(p11.keep_alive());
  ResponseParser closing(false, 1024, 1024);
  in = "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(closing.feed(in));
  EXPECT_FALSE(closing.keep_alive());
  ResponseParser p10(false, 1024, 1024);
  in = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(p10.feed(in));
  EXPECT_FALSE(p10.keep_alive());
  ResponseParser p10ka(false, 1024, 1024);
  in = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(p10ka.feed(in));
  EXPECT_TRUE(p10ka.keep_alive());
}

TEST(ResponseParser, BodyUntilCloseEndsTheConnection) {
  ResponseParser p(false, 1024, 1024);
  std::string in = "HTTP/1.1 200 OK\r\n\r\npartial";
  ASSERT_TRUE(p.feed(in));
  EXPECT_FALSE(p.done());
  ASSERT_TRUE(p.finish_at_close());
  EXPECT_FALSE(p.keep_alive());
  EXPECT_EQ(p.take().body, "partial");
}

TEST(ResponseParser, CloseBeforeTheDeclaredLengthIsARetryableError) {
  ResponseParser p(false, 1024, 1024);
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
  ASSERT_TRUE(p.feed(in));
  auto end = p.finish_at_close();
  ASSERT_FALSE(end);
  EXPECT_TRUE(end.error().retryable);
  EXPECT_NE(end.error().message.find("before the response was complete"), std::string::npos);
}

TEST(ResponseParser, HeadAnswersAndNoContentCarryNoBody) {
  std::string rest;
  auto head = parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nReplay-Nonce: n1\r\n\r\n", 1 << 20, true, 1024, 1024,
                    &rest);
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->header("replay-nonce").value_or(""), "n1");
  EXPECT_TRUE(head->body.empty());
  auto none = parse("HTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 204);
}

TEST(ResponseParser, InterimResponsesAreSkippedAndFoldedLinesJoined) {
  auto r = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nLink: <a>;\r\n rel=\"up\"\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("link").value_or(""), "<a>; rel=\"up\"");
}

TEST(ResponseParser, HeadersOverTheCapAreAnErrorEvenWithoutTheBlankLine) {
  auto r = parse("HTTP/1.1 200 OK\r\nX: " + std::string(2000, 'h'), 100, false, 1024);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("headers exceed the limit of 1024 bytes"), std::string::npos)
      << r.error().message;
}

TEST(ResponseParser, DeclaredLengthOverTheCapFailsBeforeTheBody) {
  auto r = parse("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 1 << 20, false, 1024, 1000);
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().retryable);
  EXPECT_NE(r.error().message.find("exceeds the limit of 1000 bytes"), std::string::npos);
}

TEST(ResponseParser, MalformedStatusHeadersAndLengthsAreRefused) {
  for (const char* text : {"SMTP 220 hello\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                           "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\n : x\r\n\r\n"}) {
    auto r = parse(text);
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().message.find("malformed HTTP response"), std::string::npos) << r.error().message;
  }
}

}  // namespace
