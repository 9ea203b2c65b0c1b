// The one file that speaks sd-bus (libsystemd).
#include "agent/engine/units.hpp"

#include <fmt/format.h>
#include <systemd/sd-bus.h>

#include <cstring>
#include <map>
#include <memory>

#include "agent/engine/privilege.hpp"
#include "agent/store/logging.hpp"
#include "common/escape.hpp"

namespace certagent::agent {
namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

struct BusUnref {
  void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
struct MessageUnref {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
struct SlotUnref {
  void operator()(sd_bus_slot* s) const { sd_bus_slot_unref(s); }
};
using BusPtr = std::unique_ptr<sd_bus, BusUnref>;
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotUnref>;

// sd_bus_error freed on every path.
struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  BusError() = default;
  BusError(const BusError&) = delete;
  BusError& operator=(const BusError&) = delete;
  ~BusError() { sd_bus_error_free(&e); }
  [[nodiscard]] std::string text() const {
    return fmt::format("{}: {}", e.name ? e.name : "?", escape_control(e.message ? e.message : "", 300));
  }
};

std::string errno_text(int r) { return fmt::format("{} (errno {})", std::strerror(-r), -r); }

// Results of finished jobs, by job path, as the JobRemoved signals tell them.
using JobResults = std::map<std::string, std::string>;

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  uint32_t id = 0;
  const char* path = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && path && result)
    (*static_cast<JobResults*>(userdata))[path] = result;
  return 0;
}

class Manager {
 public:
  static Result<Manager> connect() {
    sd_bus* raw = nullptr;
    if (int r = sd_bus_open_system(&raw); r < 0)
      return fail(ErrorKind::Hook, "cannot connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else "
                                   "/run/dbus/system_bus_socket): " + errno_text(r));
    Manager m;
    m.bus_.reset(raw);
    // No password prompt: a refusal comes back as InteractiveAuthorizationRequired.
    sd_bus_set_allow_interactive_authorization(raw, 0);
    sd_bus_slot* slot = nullptr;
    if (int r = sd_bus_match_signal(raw, &slot, kService, kPath, kManager, "JobRemoved", on_job_removed,
                                    m.jobs_.get());
        r < 0)
      return fail(ErrorKind::Hook, "cannot watch systemd's jobs on the system bus: " + errno_text(r));
    m.slot_.reset(slot);
    BusError ignored;  // without Subscribe, systemd still tells the client that queued the job
    sd_bus_call_method(raw, kService, kPath, kManager, "Subscribe", &ignored.e, nullptr, "");
    return m;
  }

  // Queues the job; its object path, or the refusal.
  Result<std::string> queue(const UnitAction& a) {
    BusError err;
    sd_bus_message* reply_raw = nullptr;
    const char* method = a.verb == UnitVerb::Reload ? "ReloadUnit" : "RestartUnit";
    int r = sd_bus_call_method(bus_.get(), kService, kPath, kManager, method, &err.e, &reply_raw, "ss",
                               a.unit.c_str(), "replace");
    MessagePtr reply(reply_raw);
    if (r < 0) {
      const bool refused = sd_bus_error_has_names(&err.e, SD_BUS_ERROR_ACCESS_DENIED,
                                                  SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED);
      if (refused)
        return fail(ErrorKind::Hook,
                    fmt::format("systemd refused to {} {} for lack of authorization ({}); {}", to_string(a.verb),
                                a.unit, err.text(), polkit_fix(a.unit, to_string(a.verb))));
      return fail(ErrorKind::Hook, fmt::format("asking systemd to {} {} failed: {}", to_string(a.verb), a.unit,
                                               sd_bus_error_is_set(&err.e) ? err.text() : errno_text(r)));
    }
    const char* job = nullptr;
    if (sd_bus_message_read(reply.get(), "o", &job) < 0 || !job)
      return fail(ErrorKind::Hook, fmt::format("systemd's answer to {} {} has no job path", method, a.unit));
    return std::string(job);
  }

  // Waits for the job's JobRemoved signal; its result ("done", "failed", ...).
  Result<std::string> wait(const std::string& job, const UnitAction& a) {
    const auto deadline = std::chrono::steady_clock::now() + a.timeout;
    for (;;) {
      if (auto it = jobs_->find(job); it != jobs_->end()) return it->second;
      int r = sd_bus_process(bus_.get(), nullptr);
      if (r < 0) return fail(ErrorKind::Hook, fmt::format("the system bus failed while waiting for systemd to {} {}: {}",
                                                          to_string(a.verb), a.unit, errno_text(r)));
      if (r > 0) continue;
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero())
        return fail(ErrorKind::Hook, fmt::format("systemd's job to {} {} did not finish in {} s", to_string(a.verb),
                                                 a.unit, std::chrono::duration_cast<std::chrono::seconds>(a.timeout).count()),
                    /*retryable=*/true);
      r = sd_bus_wait(bus_.get(), static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(left).count()));
      if (r < 0) return fail(ErrorKind::Hook, fmt::format("the system bus failed while waiting for systemd to {} {}: {}",
                                                          to_string(a.verb), a.unit, errno_text(r)));
    }
  }

 private:
  Manager() = default;
  BusPtr bus_;
  std::unique_ptr<JobResults> jobs_ = std::make_unique<JobResults>();  // stable address for the callback
  SlotPtr slot_;
};

Result<void> run_one(Manager& manager, const UnitAction& a, std::string_view what) {
  auto log = module_logger("hooks");
  const auto started = std::chrono::steady_clock::now();
  auto job = manager.queue(a);
  if (!job) return std::unexpected(job.error());
  auto result = manager.wait(*job, a);
  if (!result) return std::unexpected(result.error());
  if (*result != "done")
    return fail(ErrorKind::Hook, fmt::format("systemd's job to {} {} ended \"{}\" (`systemctl status {}` and "
                                             "`journalctl -u {}` say why)", to_string(a.verb), a.unit,
                                             escape_control(*result, 40), a.unit, a.unit));
  log->info("{} {} ({}): done in {} ms", to_string(a.verb), a.unit, what,
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  return ok();
}

}  // namespace

std::string_view to_string(UnitVerb v) { return v == UnitVerb::Reload ? "reload" : "restart"; }

Result<void> run_unit_actions(const std::vector<UnitAction>& actions, std::string_view what) {
  if (actions.empty()) return ok();
  auto log = module_logger("hooks");
  auto manager = Manager::connect();
  if (!manager) {
    log->error("units of {}: {}", what, manager.error().message);
    return std::unexpected(manager.error().context(fmt::format("units of {}", what)));
  }
  for (const auto& a : actions) {
    if (auto done = run_one(*manager, a, what); !done) {
      log->error("{}: {}", what, done.error().message);
      return std::unexpected(done.error().context(std::string(what)));
    }
  }
  return ok();
}

}  // namespace certagent::agent
