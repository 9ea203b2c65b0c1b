#pragma once
// Proving control of every name of an order (RFC 8555 §7.5): read all
// authorizations, skip the valid ones, hand ALL pending challenges of the
// chosen type to the solver at once, answer them all, then watch the order
// (one request per look, however many names) until it leaves `pending`.
// Every presented challenge is cleaned up, whatever happens.
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/acme/order.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/acme/challenge.hpp"
#include "protocol/acme/poll_schedule.hpp"

namespace certagent::protocol {

struct AuthorizeOptions {
  PollPolicy poll;
};

// The tasks for the pending authorizations (valid ones skipped); an error when
// an authorization is in a final failed state, offers no challenge of the
// solver's type, names an identifier the order does not, or has a token that
// is not base64url. Each key authorization is token "." `account_thumbprint`
// (AcmeSession::account_thumbprint, §8.1).
[[nodiscard]] Result<std::vector<ChallengeTask>> challenge_tasks(const Order& order,
                                                                 const std::vector<Authorization>& authorizations,
                                                                 std::string_view challenge_type,
                                                                 std::string_view account_thumbprint,
                                                                 std::vector<std::string>* challenge_urls);
// The same with the type chosen per name (`solver.type_for`: a challenge per name).
[[nodiscard]] Result<std::vector<ChallengeTask>> challenge_tasks(const Order& order,
                                                                 const std::vector<Authorization>& authorizations,
                                                                 const ChallengeSolver& solver,
                                                                 std::string_view account_thumbprint,
                                                                 std::vector<std::string>* challenge_urls);

// Runs the whole §7.5 step for `order`; returns the order once it is ready
// (or already processing/valid). Timeout when validation takes longer than the policy allows.
[[nodiscard]] Result<Order> authorize_order(AcmeSession& session, const Order& order, ChallengeSolver& solver,
                                            const AuthorizeOptions& options);

}  // namespace certagent::protocol
