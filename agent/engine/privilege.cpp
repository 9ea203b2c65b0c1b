#include "agent/engine/privilege.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>

namespace certagent::agent {
namespace {

bool contains_nocase(std::string_view text, std::string_view phrase) {
  auto it = std::search(text.begin(), text.end(), phrase.begin(), phrase.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

std::string basename_of(const std::string& path) { return std::filesystem::path(path).filename().string(); }

}  // namespace

std::optional<std::string> privilege_refusal(std::string_view output) {
  // systemctl / D-Bus (polkit), then the errno texts of EPERM and EACCES.
  static constexpr std::array<std::string_view, 4> kPhrases = {
      "Interactive authentication required", "Access denied", "Operation not permitted", "Permission denied"};
  for (auto phrase : kPhrases)
    if (contains_nocase(output, phrase)) return std::string(phrase);
  return std::nullopt;
}

std::optional<std::string> systemctl_unit(const std::vector<std::string>& argv) {
  if (argv.empty() || basename_of(argv[0]) != "systemctl") return std::nullopt;
  static constexpr std::array<std::string_view, 6> kVerbs = {"reload", "restart", "try-restart", "reload-or-restart",
                                                             "try-reload-or-restart", "condrestart"};
  bool verb_seen = false;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.starts_with("-")) continue;
    if (!verb_seen) {
      if (std::find(kVerbs.begin(), kVerbs.end(), a) == kVerbs.end()) return std::nullopt;
      verb_seen = true;
      continue;
    }
    return a.find('.') == std::string::npos ? a + ".service" : a;
  }
  return std::nullopt;
}

std::string effective_user() {
  const uid_t uid = geteuid();
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return found->pw_name;
  return fmt::format("uid {}", uid);
}

std::string polkit_fix(std::string_view unit, std::string_view verb) {
  return fmt::format("allow it with polkit: copy /usr/share/polkit-1/rules.d/50-certagent.rules to {} and add "
                     "\"{}\" to its list of units (verb {}), for user {} (docs/operations.md, \"Reloading consumers\")",
                     kPolkitRuleFile, unit, verb, effective_user());
}

std::string hook_privilege_fix(const std::vector<std::string>& argv) {
  if (auto unit = systemctl_unit(argv))
    return fmt::format("a hook cannot reload a service under the unprivileged certagent service (no sudo under "
                       "NoNewPrivileges): replace the hook by \"reload_units\": [\"{}\"] for this purpose and {}",
                       *unit, polkit_fix(*unit, "reload"));
  if (!argv.empty() && basename_of(argv[0]) == "nginx")
    return fmt::format("`nginx -s` cannot signal an nginx master that runs as root: replace the hook by "
                       "\"reload_units\": [\"nginx.service\"] for this purpose and {}",
                       polkit_fix("nginx.service", "reload"));
  return fmt::format("hooks run as user {} without new privileges (no sudo): give that user what the hook needs "
                     "(a group, a file or socket it may write, ReadWritePaths= in a drop-in for paths outside "
                     "/var/lib/certagent), or reload a systemd unit with \"reload_units\" "
                     "(docs/operations.md, \"Reloading consumers\")",
                     effective_user());
}

}  // namespace certagent::agent
