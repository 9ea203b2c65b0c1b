#pragma once
// The account's orders list (RFC 8555 §7.1.2.1): the account object's
// "orders" URL, read by POST-as-GET, one page after another along
// Link rel="next". Used after a crash between journaling an order's intent
// and journaling the order the CA created, to find that order instead of
// placing a second one. The CA may be hostile: the walk is bounded in pages
// and entries, a page URL seen before ends it (a loop), and no URL that is not
// https:// is followed or returned.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/session.hpp"

namespace certagent::protocol {

struct OrdersListLimits {
  std::size_t max_pages = 8;       // pages read at most
  std::size_t max_entries = 1000;  // order URLs kept at most, over all pages
};

struct OrdersList {
  std::vector<std::string> orders;  // https:// order URLs, in the CA's order, duplicates removed
  std::size_t skipped = 0;          // entries refused (not https://, not a string, duplicates)
  bool truncated = false;           // a limit or a loop ended the walk before the last page
};

// One page: its "orders" array (at most `max_entries` taken; truncated when
// there were more) and its Link rel="next" (empty when none).
struct OrdersPage {
  OrdersList list;
  std::string next;
};
[[nodiscard]] Result<OrdersPage> parse_orders_page(const HttpResponse& response, std::string_view url,
                                                   std::size_t max_entries);

// POST-as-GET of the session's account URL (§7.3): the account's "orders" URL.
// A Protocol error when the CA offers none or it is not https://.
[[nodiscard]] Result<std::string> account_orders_url(AcmeSession& session);

// Walks the list from `orders_url` within `limits`.
[[nodiscard]] Result<OrdersList> list_account_orders(AcmeSession& session, std::string_view orders_url,
                                                     const OrdersListLimits& limits = {});

}  // namespace certagent::protocol
