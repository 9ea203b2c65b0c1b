#pragma once
// The "acme" logger of protocol/: what the ACME client is doing, for -v.
// Never logs keys, MAC keys or JWS bodies.
#include <memory>

#include <spdlog/logger.h>

namespace certagent::protocol {

[[nodiscard]] spdlog::logger& acme_log();

}  // namespace certagent::protocol
