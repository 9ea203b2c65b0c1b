#include "agent/engine/work_outputs.hpp"

#include "agent/store/fsutil.hpp"
#include "agent/store/logging.hpp"

namespace certagent::agent {
namespace {

bool lacks_an_output(const PurposeConsumers& c) {
  for (const auto& o : c.outputs) {
    auto kind = fsutil::entry_kind(o.path);
    if (kind && *kind == fsutil::EntryKind::Missing) return true;
  }
  return false;
}

}  // namespace

std::size_t write_missing_outputs(EngineContext& ctx) {
  auto log = module_logger("engine");
  std::size_t rebound = 0;
  for (const auto& [purpose, consumers] : ctx.consumers) {
    if (consumers.outputs.empty() || !lacks_an_output(consumers)) continue;
    const StoreWriter store = ctx.store->lock();
    auto bound = store->binding(purpose);
    if (!bound || !*bound || !(*bound)->complete) continue;  // nothing bound: the plan binds it
    log->info("{}: writing its missing output files from the bound version {}", purpose, (*bound)->version_id);
    const std::string one[] = {purpose};
    auto outcomes = rebind(*store, one, (*bound)->version_id, ctx.consumers);
    ++rebound;
    if (!outcomes) {
      log->error("{}: cannot write its output files: {}", purpose, outcomes.error().message);
      continue;
    }
    for (const auto& o : *outcomes)
      if (!o.succeeded()) log->error("{}: writing its output files: {}", purpose, o.failure->message);
  }
  return rebound;
}

}  // namespace certagent::agent
