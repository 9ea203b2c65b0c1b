#include "protocol/acme/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace certagent::protocol {

spdlog::logger& acme_log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("acme")) return existing;
    try {
      return spdlog::stderr_color_mt("acme");  // registered: follows the level the CLI sets
    } catch (const spdlog::spdlog_ex&) {
      auto again = spdlog::get("acme");
      return again ? again : spdlog::default_logger();
    }
  }();
  return *logger;
}

}  // namespace certagent::protocol
