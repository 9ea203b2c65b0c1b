#include "agent/fault.hpp"

#include <csignal>
#include <cstdlib>
#include <string>
#include <utility>

namespace certagent::agent {
namespace {

FaultInjector& injector() {
  static FaultInjector f;
  return f;
}

const std::string& kill_point_from_env() {
  static const std::string point = [] {
    const char* v = std::getenv("CERTAGENT_FAULT_KILL");
    return std::string(v ? v : "");
  }();
  return point;
}

}  // namespace

void set_fault_injector(FaultInjector f) { injector() = std::move(f); }

bool fault_point(std::string_view point) {
  if (!kill_point_from_env().empty() && kill_point_from_env() == point) ::raise(SIGKILL);
  auto& f = injector();
  return f && f(point);
}

}  // namespace certagent::agent
