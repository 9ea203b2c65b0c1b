#include "protocol/acme/challenge_check.hpp"

#include <string>

#include "common/escape.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {

Result<void> check_token(std::string_view token) {
  if (token.size() > kMaxTokenLength)
    return fail(ErrorKind::Protocol, "challenge token refused: " + std::to_string(token.size()) +
                                         " characters, at most " + std::to_string(kMaxTokenLength));
  if (!is_base64url(token))
    return fail(ErrorKind::Protocol, "challenge token refused: not base64url: '" + escape_control(token, 80) + "'");
  return ok();
}

Result<void> check_http01_task(const ChallengeTask& task) {
  if (!task.type.empty() && task.type != "http-01")
    return fail(ErrorKind::Invalid, "an http-01 solver was given a '" + escape_control(task.type, 40) + "' challenge");
  if (auto t = check_token(task.token); !t) return t;
  const std::string_view ka = task.key_authorization;
  if (ka.size() <= task.token.size() + 1 || !ka.starts_with(task.token) || ka[task.token.size()] != '.' ||
      !is_base64url(ka.substr(task.token.size() + 1)))
    return fail(ErrorKind::Invalid, "key authorization for token '" + task.token + "' is not '<token>.<thumbprint>'");
  return ok();
}

}  // namespace certagent::protocol
