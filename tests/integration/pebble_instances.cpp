#include "pebble_instances.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <random>
#include <thread>
#include <stdexcept>

#include "common/process.hpp"

namespace certagent::integration {
namespace fs = std::filesystem;

PebbleInstances::PebbleInstances(const std::vector<std::string>& specs) {
  std::random_device rd;
  dir_ = fs::temp_directory_path() / fmt::format("certagent-pebble-{}-{:08x}", ::getpid(), rd());
  fs::create_directories(dir_);
  std::vector<std::string> args{"start", dir_.string()};
  args.insert(args.end(), specs.begin(), specs.end());
  ctl(args);
}

PebbleInstances::~PebbleInstances() {
  try {
    ctl({"stop", dir_.string()});
  } catch (const std::exception&) {  // nothing more to do in a destructor
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

PebbleEnv PebbleInstances::env(const std::string& profile) const {
  auto env = load_pebble_env_from(dir_.string(), profile);
  if (!env) throw std::runtime_error(env.error().message);
  return *env;
}

namespace {
bool gone(long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return true;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("State:")) return line.find('Z') != std::string::npos;  // exited, not yet reaped
  return true;
}
}  // namespace

void PebbleInstances::stop(const std::string& profile) const {
  const long pid = env(profile).pid;
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), SIGTERM) != 0)
    throw std::runtime_error("cannot signal pebble " + profile + " (pid " + std::to_string(pid) + ")");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!gone(pid)) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("pebble " + profile + " ignored SIGTERM");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void PebbleInstances::restart(const std::string& profile) const { ctl({"restart", dir_.string(), profile}); }

void PebbleInstances::ctl(const std::vector<std::string>& args) const {
  ProcessSpec spec;
  spec.argv = {CERTAGENT_SOURCE_DIR "/tests/integration/pebble-ctl"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.inherit_path = true;
  spec.timeout = std::chrono::seconds(120);
  auto r = run_process(spec);
  if (!r) throw std::runtime_error("cannot run pebble-ctl: " + r.error().message);
  if (!r->succeeded())
    throw std::runtime_error(fmt::format("pebble-ctl {} failed: {}\n{}", fmt::join(args, " "), describe(*r, spec), r->err));
}

}  // namespace certagent::integration
