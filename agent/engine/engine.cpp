#include "agent/engine/engine.hpp"

#include <memory>

#include "agent/engine/pass.hpp"
#include "agent/store/store.hpp"

namespace certagent::agent {

Result<PassFn> make_pass(const GlobalOptions& globals) {
  OpenOptions open;
  open.write = true;  // one writer: a second agent fails here, naming the holder
  auto store = Store::open(globals.state_dir, open);
  if (!store) return std::unexpected(store.error());
  auto engine = std::make_shared<Engine>(EngineOptions{globals.policy, 4},
                                         std::make_shared<Store>(std::move(*store)));
  return PassFn([engine](const PassRequest& request) { return engine->pass(request); });
}

}  // namespace certagent::agent
