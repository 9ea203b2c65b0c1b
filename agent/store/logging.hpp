#pragma once
// One named spdlog logger per module ("store", "hooks", ...), created on first
// use with the default sink (stderr) and the global level set by the CLI.
#include <memory>

#include <spdlog/logger.h>

namespace certagent::agent {

[[nodiscard]] std::shared_ptr<spdlog::logger> module_logger(const char* name);

}  // namespace certagent::agent
