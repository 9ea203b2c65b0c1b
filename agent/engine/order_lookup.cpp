#include "agent/engine/order_lookup.hpp"

namespace certagent::agent {

bool order_fits_intent(const protocol::Order& order, const OrderIntent& intent, ClockTime now) {
  if (order.status != "pending" && order.status != "ready") return false;
  if (protocol::identifier_names(order.identifiers) != protocol::normalized_names(intent.names)) return false;
  if (order.expires && (*order.expires <= now || *order.expires < intent.time)) return false;
  if (!intent.profile.empty() && !order.profile.empty() && order.profile != intent.profile) return false;
  return true;
}

Result<OrderLookup> find_intended_order(protocol::AcmeSession& session, const OrderIntent& intent,
                                        const OrderLookupLimits& limits) {
  auto orders_url = protocol::account_orders_url(session);
  if (!orders_url) return std::unexpected(orders_url.error());
  auto list = protocol::list_account_orders(session, *orders_url, limits.list);
  if (!list) return std::unexpected(list.error());
  OrderLookup out;
  out.listed = list->orders.size();
  const auto now = session.clock().now();
  for (auto it = list->orders.rbegin(); it != list->orders.rend() && out.fetched < limits.max_fetched; ++it) {
    ++out.fetched;
    auto order = protocol::fetch_order(session, *it);
    if (!order && order.error().kind == ErrorKind::Cancelled) return std::unexpected(order.error());
    if (!order) continue;  // gone, or hostile: the next one
    if (order_fits_intent(*order, intent, now)) {
      out.order = std::move(*order);
      break;
    }
  }
  return out;
}

}  // namespace certagent::agent
