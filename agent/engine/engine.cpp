#include "agent/engine/engine.hpp"

#include <fmt/format.h>

#include <memory>

#include "agent/engine/pass.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/lock.hpp"
#include "agent/store/logging.hpp"
#include "agent/store/store.hpp"

namespace certagent::agent {

Result<Store> open_store_for_writing(const std::string& state_dir) {
  auto now = Store::open(state_dir, OpenOptions{true, std::chrono::milliseconds(0)});
  if (now || !now.error().retryable) return now;  // busy is the retryable failure (lock.cpp)
  const auto holder = lock_holder(writer_lock_file(state_dir));
  module_logger("store")->warn("waiting for the pass in progress{} to finish (at most {} min) ...",
                               holder ? fmt::format(" (pid {})", *holder) : std::string(), kCommandLockWait.count());
  return Store::open(state_dir, OpenOptions{true, kCommandLockWait});
}

Result<PassFn> make_pass(const GlobalOptions& globals, bool daemon) {
  std::shared_ptr<StateLock> daemon_lock;
  if (daemon) {
    // One daemon per state directory: a second one fails here at once, naming the first.
    const std::filesystem::path dir = globals.state_dir;
    if (auto made = fsutil::make_private_dir(dir); !made)
      return std::unexpected(made.error().context("opening the state directory " + dir.string()));
    auto held = StateLock::acquire_file(daemon_lock_file(dir), std::chrono::milliseconds(0));
    if (!held) return std::unexpected(held.error());
    daemon_lock = std::make_shared<StateLock>(std::move(*held));
  }
  auto store = open_store_for_writing(globals.state_dir);
  if (!store) return std::unexpected(store.error());
  auto shared = std::make_shared<Store>(std::move(*store));
  if (daemon) shared->remember_versions();  // its passes read only what changed (issue 26)
  auto engine = std::make_shared<Engine>(EngineOptions{globals.policy, 4}, std::move(shared));
  if (daemon) engine->hold_lock_only_during_passes();
  return PassFn([engine, daemon_lock](const PassRequest& request) { return engine->pass(request); });
}

}  // namespace certagent::agent
