#include "agent/engine/env_seconds.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "agent/store/logging.hpp"

namespace certagent::agent {

std::optional<Seconds> seconds_from_environment(const char* name, Seconds min, Seconds max, std::string_view effect) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  long seconds = 0;
  const char* end = text + std::strlen(text);
  auto [at, ec] = std::from_chars(text, end, seconds);
  if (ec != std::errc{} || at != end || seconds < min.count() || seconds > max.count()) {
    module_logger("engine")->warn("ignoring {}={}: not a number of seconds in {}..{}", name, text, min.count(),
                                  max.count());
    return std::nullopt;
  }
  static std::mutex mu;
  static std::set<std::string> said;
  std::lock_guard lock(mu);
  if (said.insert(name).second)
    module_logger("engine")->warn("{}: {} (a setting for tests: do not use it in production)", name,
                                  fmt::format(fmt::runtime(effect), seconds));
  return Seconds(seconds);
}

}  // namespace certagent::agent
