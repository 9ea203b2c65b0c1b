#pragma once
// Consumers that are systemd units: certagent asks systemd's manager on the
// system bus (D-Bus, org.freedesktop.systemd1.Manager.ReloadUnit / RestartUnit)
// to reload or restart them, as the unprivileged service user, and waits for
// the job's result. systemd asks polkit whether that user may; the packaged
// rule (systemd/50-certagent.rules) allows exactly the units an administrator
// lists. The system bus is DBUS_SYSTEM_BUS_ADDRESS when set (sd-bus's rule),
// else /run/dbus/system_bus_socket.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace certagent::agent {

enum class UnitVerb { Reload, Restart };

struct UnitAction {
  std::string unit;  // the whole name, e.g. "nginx.service"
  UnitVerb verb = UnitVerb::Reload;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};  // for systemd's job to finish
};

[[nodiscard]] std::string_view to_string(UnitVerb v);

// Runs the actions in order, logging each on the "hooks" logger, and stops at
// the first that fails, with an Error of kind Hook. A refusal for lack of
// authorization (AccessDenied, InteractiveAuthorizationRequired) says so, and
// names the unit and the polkit rule to add; other failures (no bus, no such
// unit, a job that ends "failed" or times out) say what happened. `what` names the
// purpose and action for messages, e.g. "bind of Default".
[[nodiscard]] Result<void> run_unit_actions(const std::vector<UnitAction>& actions, std::string_view what);

}  // namespace certagent::agent
