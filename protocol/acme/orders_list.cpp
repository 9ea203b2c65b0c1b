#include "common/escape.hpp"
#include "protocol/acme/orders_list.hpp"

#include <algorithm>
#include <set>

#include "protocol/acme/json.hpp"
#include "protocol/acme/link_header.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

// Appends the page's https:// entries to `out` until it holds `max_entries`.
void take_entries(const json::array& entries, std::size_t max_entries, std::set<std::string>& seen, OrdersList& out) {
  for (const auto& v : entries) {
    if (out.orders.size() >= max_entries) {
      out.truncated = true;
      return;
    }
    if (!v.is_string() || !is_https_url(v.as_string()) || !seen.insert(std::string(v.as_string())).second) {
      ++out.skipped;
      continue;
    }
    out.orders.emplace_back(v.as_string());
  }
}

}  // namespace

Result<OrdersPage> parse_orders_page(const HttpResponse& response, std::string_view url, std::size_t max_entries) {
  const std::string doing = "reading the orders list " + escape_control(url, 300);
  auto obj = json_body(response, "orders list");
  if (!obj) return std::unexpected(std::move(obj.error()).context(doing));
  const auto* entries = obj->if_contains("orders");
  if (entries == nullptr || !entries->is_array())
    return fail(ErrorKind::Protocol, doing + ": the orders list has no \"orders\" array");
  OrdersPage page;
  std::set<std::string> seen;
  take_entries(entries->as_array(), max_entries, seen, page.list);
  auto links = parse_link_headers(response.headers_named("Link"), url);
  if (!links) return std::unexpected(std::move(links.error()).context(doing));
  page.next = first_link_with_rel(*links, "next").value_or("");
  if (!page.next.empty() && !is_https_url(page.next))
    return fail(ErrorKind::Protocol, doing + ": refusing to follow a next page that is not https:// (" +
                                         escape_control(page.next, 200) + ")");
  return page;
}

Result<std::string> account_orders_url(AcmeSession& session) {
  const std::string& account = session.account().url;
  if (account.empty()) return fail(ErrorKind::Invalid, "reading the account: the session has no account");
  const std::string doing = "reading the account " + account;
  auto resp = session.post_as_get(account, doing);
  if (!resp) return std::unexpected(resp.error());
  auto obj = json_body(*resp, "account");
  if (!obj) return std::unexpected(std::move(obj.error()).context(doing));
  auto orders = string_member(*obj, "orders");
  if (!orders || orders->empty()) return fail(ErrorKind::Protocol, doing + ": the CA offers no orders list");
  if (!is_https_url(*orders))
    return fail(ErrorKind::Protocol, doing + ": the orders list URL is not https:// (" + escape_control(*orders, 200) + ")");
  return *orders;
}

Result<OrdersList> list_account_orders(AcmeSession& session, std::string_view orders_url,
                                       const OrdersListLimits& limits) {
  if (!is_https_url(orders_url))
    return fail(ErrorKind::Protocol, "refusing to read an orders list that is not https:// (" +
                                         escape_control(orders_url, 200) + ")");
  OrdersList out;
  std::set<std::string> pages_seen, entries_seen;
  std::string url(orders_url);
  while (!url.empty()) {
    if (pages_seen.size() >= limits.max_pages || !pages_seen.insert(url).second) {
      out.truncated = true;  // a page limit, or a `next` that leads back (a loop)
      break;
    }
    auto resp = session.post_as_get(url, "reading the orders list " + url);
    if (!resp) return std::unexpected(resp.error());
    auto page = parse_orders_page(*resp, url, limits.max_entries - out.orders.size());
    if (!page) return std::unexpected(page.error());
    for (auto& o : page->list.orders) {
      if (entries_seen.insert(o).second) out.orders.push_back(std::move(o));
      else ++out.skipped;
    }
    out.skipped += page->list.skipped;
    if (page->list.truncated || out.orders.size() >= limits.max_entries) {
      out.truncated = out.truncated || page->list.truncated || !page->next.empty();
      break;
    }
    url = page->next;
  }
  return out;
}

}  // namespace certagent::protocol
