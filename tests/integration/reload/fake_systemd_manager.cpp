// A stand-in for systemd's Manager on a private D-Bus bus (it is NOT systemd: no
// units, no cgroups, no polkit). It answers what certagent's agent/engine/units.cpp
// calls — Subscribe(), ReloadUnit(ss) and RestartUnit(ss) at /org/freedesktop/systemd1,
// interface org.freedesktop.systemd1.Manager, name org.freedesktop.systemd1 — the way
// systemd 252 does: the job's object path as the reply, then the JobRemoved(uoss)
// signal with the job's result ("done" or "failed"). It plays polkit's part with a
// fixed rule: one unit may be reloaded or restarted, by one uid. That uid's request for
// another unit is refused with org.freedesktop.DBus.Error.InteractiveAuthorizationRequired,
// as systemd refuses when no rule answers and polkit falls back to manage-units' default
// (auth_admin) for a caller that allows no interaction (certagent); any other caller's
// with org.freedesktop.DBus.Error.AccessDenied, as when polkit says no. A reload or restart of the allowed unit runs the given command
// (e.g. `nginx -p … -s reload` on the test's nginx). A second unit may be named whose
// jobs the same caller may queue but which always end "failed" (a unit whose ExecReload=
// fails), without running anything.
//
// Usage: fake_systemd_manager [--failing-unit <unit>] <allowed unit> <allowed uid> <command...>
// The bus is DBUS_SYSTEM_BUS_ADDRESS. One line per request on stdout:
//   "<Method> <unit> uid=<caller's euid> -> <job path> <result>" or "... refused".
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string g_unit;
std::string g_failing_unit;
uid_t g_uid = 0;
std::vector<std::string> g_command;
uint32_t g_next_job = 1;

bool run_command() {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : g_command) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int on_unit_job(sd_bus_message* m, void*, sd_bus_error* error) {
  const char* unit = nullptr;
  const char* mode = nullptr;
  int r = sd_bus_message_read(m, "ss", &unit, &mode);
  if (r < 0) return r;
  const char* method = sd_bus_message_get_member(m);
  sd_bus_creds* creds = nullptr;
  uid_t uid = static_cast<uid_t>(-1);
  if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds) >= 0) sd_bus_creds_get_euid(creds, &uid);
  sd_bus_creds_unref(creds);
  const bool failing = !g_failing_unit.empty() && g_failing_unit == unit;
  if ((g_unit != unit && !failing) || uid != g_uid) {
    std::printf("%s %s uid=%d refused\n", method, unit, static_cast<int>(uid));
    std::fflush(stdout);
    if (uid != g_uid) return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied");
    return sd_bus_error_set(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                            "Interactive authentication required.");
  }
  const uint32_t id = g_next_job++;
  const std::string job = "/org/freedesktop/systemd1/job/" + std::to_string(id);
  if ((r = sd_bus_reply_method_return(m, "o", job.c_str())) < 0) return r;
  const char* result = !failing && run_command() ? "done" : "failed";
  std::printf("%s %s uid=%d -> %s %s\n", method, unit, static_cast<int>(uid), job.c_str(), result);
  std::fflush(stdout);
  sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                     "JobRemoved", "uoss", id, job.c_str(), unit, result);
  return 1;
}

int on_subscribe(sd_bus_message* m, void*, sd_bus_error*) { return sd_bus_reply_method_return(m, ""); }

const sd_bus_vtable kManager[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Subscribe", "", "", on_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReloadUnit", "ss", "o", on_unit_job, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("RestartUnit", "ss", "o", on_unit_job, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
    SD_BUS_VTABLE_END,
};

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (argc > 2 && std::string(argv[1]) == "--failing-unit") {
    g_failing_unit = argv[2];
    first = 3;
  }
  if (argc - first < 3) {
    std::fprintf(stderr, "usage: %s [--failing-unit <unit>] <allowed unit> <allowed uid> <command...>\n", argv[0]);
    return 2;
  }
  g_unit = argv[first];
  g_uid = static_cast<uid_t>(std::strtoul(argv[first + 1], nullptr, 10));
  for (int i = first + 2; i < argc; ++i) g_command.emplace_back(argv[i]);
  sd_bus* bus = nullptr;
  int r = sd_bus_open_system(&bus);
  if (r >= 0) r = sd_bus_add_object_vtable(bus, nullptr, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                           kManager, nullptr);
  if (r >= 0) r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
  if (r < 0) {
    std::fprintf(stderr, "fake_systemd_manager: cannot serve on the bus: %s\n", std::strerror(-r));
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    r = sd_bus_process(bus, nullptr);
    if (r < 0) {
      std::fprintf(stderr, "fake_systemd_manager: %s\n", std::strerror(-r));
      return 1;
    }
    if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0) return 1;
  }
}
