#pragma once
// Finding the order a killed run placed: its intent was journaled
// (agent/store/order_journal.hpp) and newOrder sent, but the process died before the
// order's URL was journaled. The account's orders list (RFC 8555 §7.1.2.1)
// names the orders the CA holds for the account; the newest one that fits the
// intent is taken instead of placing a second order.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/order.hpp"
#include "protocol/acme/orders_list.hpp"
#include "protocol/acme/session.hpp"

namespace certagent::agent {

struct OrderIntent {
  std::vector<std::string> names;
  std::string profile;        // "" none
  ClockTime time;             // when the intent was journaled
};

// Whether `order` can be the one placed for `intent`: exactly the intent's
// names; pending or ready (a processing or valid order was finalized with a
// key that no intent-only journal holds — typically the previous issuance for
// the same names); not expired (at `now`) and not expired before the intent
// was written (an order without "expires" passes); the same profile when both
// name one.
[[nodiscard]] bool order_fits_intent(const protocol::Order& order, const OrderIntent& intent, ClockTime now);

struct OrderLookupLimits {
  protocol::OrdersListLimits list;
  std::size_t max_fetched = 32;  // orders read at most, newest (last listed) first
};

struct OrderLookup {
  std::optional<protocol::Order> order;  // the newest fitting order, if any
  std::size_t listed = 0;                // order URLs in the list (within the limits)
  std::size_t fetched = 0;               // orders read
};

// Reads the account's orders list through `session` (its account) and the
// listed orders from the last one back. An error when the account or the list
// cannot be read; an order that cannot be read is skipped.
[[nodiscard]] Result<OrderLookup> find_intended_order(protocol::AcmeSession& session, const OrderIntent& intent,
                                                      const OrderLookupLimits& limits = {});

}  // namespace certagent::agent
