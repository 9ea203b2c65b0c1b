#include "agent/store/fault.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>
#include <utility>

namespace certagent::agent {
#ifdef CERTAGENT_FAULT_INJECTION
namespace {

FaultInjector& injector() {
  static FaultInjector f;
  return f;
}

struct KillPoint {
  std::string name;
  unsigned long nth = 1;  // "<point>@N": the Nth time the point is reached
};

const KillPoint& kill_point_from_env() {
  static const KillPoint point = [] {
    const char* v = std::getenv("CERTAGENT_FAULT_KILL");
    KillPoint k{v ? v : "", 1};
    if (auto at = k.name.rfind('@'); at != std::string::npos) {
      k.nth = std::strtoul(k.name.c_str() + at + 1, nullptr, 10);
      k.name.resize(at);
    }
    return k;
  }();
  return point;
}

std::atomic<unsigned long> kill_point_hits{0};

}  // namespace

void set_fault_injector(FaultInjector f) { injector() = std::move(f); }

bool fault_point(std::string_view point) {
  const KillPoint& k = kill_point_from_env();
  if (!k.name.empty() && k.name == point && ++kill_point_hits == k.nth) ::raise(SIGKILL);
  auto& f = injector();
  return f && f(point);
}

#else  // a build without the tests: no fault point does anything, and nothing reads the environment

void set_fault_injector(FaultInjector) {}

bool fault_point(std::string_view) { return false; }

#endif

}  // namespace certagent::agent
