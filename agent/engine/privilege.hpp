#pragma once
// Telling a consumer reload that was refused for lack of privilege from any
// other failure, and saying how to grant exactly what is missing. certagent's
// service runs as the unprivileged user `certagent` with NoNewPrivileges=yes
// (systemd/certagent.service): it cannot signal a root nginx, sudo is refused,
// and systemd asks polkit before it reloads a unit for it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certagent::agent {

// Where the administrator lists the units certagent may reload or restart (a copy of the
// packaged /usr/share/polkit-1/rules.d/50-certagent.rules).
inline constexpr std::string_view kPolkitRuleFile = "/etc/polkit-1/rules.d/50-certagent.rules";

// The phrase in a program's output that says it was refused for lack of privilege
// ("Access denied", "Interactive authentication required", "Operation not permitted",
// "Permission denied"), or nothing.
[[nodiscard]] std::optional<std::string> privilege_refusal(std::string_view output);

// The unit a hook's argv asks systemctl to reload or restart ("systemctl reload nginx" →
// "nginx.service"), or nothing when the hook is something else.
[[nodiscard]] std::optional<std::string> systemctl_unit(const std::vector<std::string>& argv);

// The user this process runs as, by name when it has one ("certagent", else "uid 998").
[[nodiscard]] std::string effective_user();

// How to let this user reload / restart `unit` ("reload" or "restart"): the polkit rule.
[[nodiscard]] std::string polkit_fix(std::string_view unit, std::string_view verb);

// What to do about a hook refused for lack of privilege.
[[nodiscard]] std::string hook_privilege_fix(const std::vector<std::string>& argv);

}  // namespace certagent::agent
