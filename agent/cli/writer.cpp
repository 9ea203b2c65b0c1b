#include "agent/cli/writer.hpp"

#include <signal.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "agent/engine/engine.hpp"
#include "agent/store/lock.hpp"

namespace certagent::agent {

void notify_daemon_after_writing(const std::string& state_dir) {
  const auto pid = lock_holder(daemon_lock_file(state_dir));
  if (!pid || *pid == ::getpid()) return;
  if (::kill(static_cast<pid_t>(*pid), SIGHUP) == 0)
    std::cerr << fmt::format("certagent: told the running service (pid {}) to act on it now\n", *pid);
  else
    std::cerr << fmt::format("certagent: the running service (pid {}) could not be told ({}); it acts on this at its "
                             "next pass, or now after `systemctl reload certagent`\n",
                             *pid, std::strerror(errno));
}

}  // namespace certagent::agent
