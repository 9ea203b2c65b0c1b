// protocol::parse_orders_page (RFC 8555 §7.1.2.1): one page of an account's orders list.
// The first input byte picks the entry limit, the text up to the first '\n' is the Link
// header, the rest the body. Invariants: no more entries than the limit (truncated when some
// were left); every entry is an https:// URL, none twice; `next` is empty or https://; a
// refusal is a Protocol error whose message carries nothing a terminal obeys.
#include <set>

#include "fuzz_check.hpp"
#include "protocol/acme/orders_list.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  if (size == 0) return 0;
  const std::size_t limit = data[0] % 8;
  const std::string_view text = certagent::fuzz::as_text(data + 1, size - 1);
  const std::size_t nl = text.find('\n');
  p::HttpResponse response;
  response.status = 200;
  response.headers.push_back({"Content-Type", "application/json"});
  if (nl != std::string_view::npos) response.headers.push_back({"Link", std::string(text.substr(0, nl))});
  response.body = std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
  auto page = p::parse_orders_page(response, "https://ca.example/list/1", limit);
  if (!page) {
    FUZZ_CHECK(page.error().kind == certagent::ErrorKind::Protocol);
    FUZZ_CHECK(certagent::fuzz::clean_text(page.error().message));
    return 0;
  }
  FUZZ_CHECK(page->list.orders.size() <= limit);
  std::set<std::string> seen;
  for (const auto& url : page->list.orders) {
    FUZZ_CHECK(p::is_https_url(url));
    FUZZ_CHECK(seen.insert(url).second);
  }
  FUZZ_CHECK(page->next.empty() || p::is_https_url(page->next));
  return 0;
}
