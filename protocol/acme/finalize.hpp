#pragma once
// Finalizing an order (RFC 8555 §7.4): send the CSR once the order is ready,
// follow `orderNotReady` by re-reading the order, and wait while it is processing.
#include <string>

#include "common/error.hpp"
#include "protocol/acme/order.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/acme/poll_schedule.hpp"

namespace certagent::protocol {

// Sends `csr_der` to the order's finalize URL and returns the order once it is
// valid (with its certificate URL). Rejected when the order goes invalid,
// Timeout when processing outlasts `policy.total`.
[[nodiscard]] Result<Order> finalize_order(AcmeSession& session, const Order& order, std::string_view csr_der,
                                           const PollPolicy& policy);

// Re-reads the order while it is processing (Retry-After honoured, back-off otherwise).
[[nodiscard]] Result<Order> poll_while_processing(AcmeSession& session, Order order, const PollPolicy& policy);

}  // namespace certagent::protocol
