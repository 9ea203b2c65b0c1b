#include "protocol/acme/finalize.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/acme/json.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

constexpr int kMaxFinalizeAttempts = 3;  // orderNotReady, re-read, ready again: at most this often

std::string order_problem(const Order& order) {
  if (!order.error) return "the CA gave no reason";
  std::string text(short_type(order.error->type));
  if (!order.error->detail.empty()) text += ": " + order.error->detail;
  return text;
}

Result<Order> checked_final(Order order) {
  if (order.status == "invalid")
    return fail(ErrorKind::Rejected, "the order " + order.url + " became invalid: " + order_problem(order));
  if (order.status == "valid" && order.certificate.empty())
    return fail(ErrorKind::Protocol, "the order " + order.url + " is valid but names no certificate URL");
  return order;
}

Result<Order> post_finalize(AcmeSession& session, const Order& order, const std::string& payload) {
  const std::string doing = "finalizing the order " + order.url;
  auto resp = session.post(order.finalize, payload, doing);
  if (!resp) return std::unexpected(resp.error());
  auto obj = json_body(*resp, "order");
  if (!obj) return std::unexpected(std::move(obj.error()).context(doing));
  auto fresh = parse_order(*obj, order.url);
  if (!fresh) return std::unexpected(std::move(fresh.error()).context(doing));
  fresh->retry_after = session.retry_after(*resp);
  return fresh;
}

}  // namespace

Result<Order> poll_while_processing(AcmeSession& session, Order order, const PollPolicy& policy) {
  PollSchedule schedule(policy, session.clock().now());
  const std::string what = "waiting for the CA to issue the certificate of " + order.url;
  while (order.status == "processing") {
    auto at = schedule.next(session.clock().now(), order.retry_after, what);
    if (!at) return std::unexpected(at.error());
    if (auto w = session.waiter().wait_until(*at); !w) return std::unexpected(std::move(w.error()).context(what));
    auto fresh = fetch_order(session, order.url);
    if (!fresh) return std::unexpected(fresh.error());
    order = std::move(*fresh);
  }
  return checked_final(std::move(order));
}

Result<Order> finalize_order(AcmeSession& session, const Order& order, std::string_view csr_der,
                             const PollPolicy& policy) {
  std::string payload = json::serialize(json::object{{"csr", base64url_encode(csr_der)}});
  Order current = order;
  for (int attempt = 0; attempt < kMaxFinalizeAttempts; ++attempt) {
    if (current.status == "processing" || current.status == "valid" || current.status == "invalid")
      return poll_while_processing(session, std::move(current), policy);
    if (current.status != "ready")
      return fail(ErrorKind::Protocol, "finalizing the order " + order.url + ": it is " + current.status +
                                           ", not ready (its authorizations are not all valid)");
    auto sent = post_finalize(session, current, payload);
    if (sent) return poll_while_processing(session, std::move(*sent), policy);
    if (short_type(sent.error().problem_type) != "orderNotReady") return std::unexpected(sent.error());
    auto fresh = fetch_order(session, order.url);  // §7.4: see what state it is really in
    if (!fresh) return std::unexpected(fresh.error());
    current = std::move(*fresh);
  }
  return fail(ErrorKind::Protocol, "finalizing the order " + order.url + ": the CA kept answering orderNotReady");
}

}  // namespace certagent::protocol
