#include "agent/store/logging.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace certagent::agent {

std::shared_ptr<spdlog::logger> module_logger(const char* name) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto l = spdlog::get(name)) return l;
  return spdlog::stderr_color_mt(name);
}

}  // namespace certagent::agent
