#include "agent/engine/hooks.hpp"

#include <fmt/format.h>

#include "agent/engine/privilege.hpp"
#include "agent/store/logging.hpp"
#include "common/escape.hpp"
#include "common/process.hpp"

namespace certagent::agent {
namespace {

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

void log_output(const char* stream, const std::string& text, bool truncated, const std::string& label) {
  if (text.empty()) return;
  module_logger("hooks")->info("{} {}: {}{}", label, stream, escape_control(text), truncated ? " (truncated)" : "");
}

// What a failed hook last said (its stderr, else its stdout), for the error that `certagent
// status` shows: the end of it, where a program puts its verdict, at most kOutputTail bytes,
// escaped as in the log.
constexpr std::size_t kOutputTail = 600;

std::string said(const ProcessOutcome& o) {
  std::string_view text = o.err.find_first_not_of(" \t\r\n") != std::string::npos ? o.err : o.out;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return "";
  std::string cut;
  if (text.size() > kOutputTail) {
    text.remove_prefix(text.size() - kOutputTail);
    while (!text.empty() && (static_cast<unsigned char>(text.front()) & 0xC0) == 0x80) text.remove_prefix(1);
    cut = "...";
  }
  return fmt::format("; it said: {}{}", cut, escape_control(text, kOutputTail));
}

}  // namespace

std::vector<std::string> hook_environment(const HookEvent& e) {
  return {
      "CERTAGENT_PURPOSE=" + e.purpose,
      "CERTAGENT_PURPOSES=" + (e.purposes.empty() ? e.purpose : join(e.purposes, " ")),
      std::string("CERTAGENT_ACTION=") + (e.action == HookAction::Bind ? "bind" : "rollback"),
      "CERTAGENT_VERSION=" + e.version_id,
      "CERTAGENT_OLD_THUMBPRINT=" + e.old_thumbprint,
      "CERTAGENT_NEW_THUMBPRINT=" + e.new_thumbprint,
      "CERTAGENT_CERT_PATH=" + (e.live_dir / "cert.pem").string(),
      "CERTAGENT_KEY_PATH=" + (e.live_dir / "privkey.pem").string(),
      "CERTAGENT_CHAIN_PATH=" + (e.live_dir / "chain.pem").string(),
      "CERTAGENT_FULLCHAIN_PATH=" + (e.live_dir / "fullchain.pem").string(),
      "CERTAGENT_NAMES=" + join(e.names, " "),
  };
}

Result<void> run_hooks(const std::vector<Hook>& hooks, const HookEvent& event) {
  auto log = module_logger("hooks");
  const char* action = event.action == HookAction::Bind ? "bind" : "rollback";
  for (const auto& hook : hooks) {
    if (hook.argv.empty()) return fail(ErrorKind::Invalid, "a hook for " + event.purpose + " has an empty argv");
    std::string label = fmt::format("hook {} ({} of {})", escape_control(hook.argv[0], 200), action,
                                    event.purposes.empty() ? event.purpose : join(event.purposes, ", "));
    ProcessSpec spec;
    spec.argv = hook.argv;
    spec.env = hook_environment(event);
    spec.inherit_path = true;
    spec.timeout = hook.timeout;
    auto outcome = run_process(spec);
    if (!outcome) {
      log->error("{}: could not start: {}", label, outcome.error().message);
      return fail(ErrorKind::Hook, label + " could not start: " + outcome.error().message);
    }
    log_output("stdout", outcome->out, outcome->out_truncated, label);
    log_output("stderr", outcome->err, outcome->err_truncated, label);
    std::string how = describe(*outcome, spec);
    if (!outcome->succeeded()) {
      if (auto phrase = privilege_refusal(outcome->out + "\n" + outcome->err)) {
        std::string why = fmt::format("{} {}, refused for lack of privilege (its output says \"{}\"); {}", label, how,
                                      *phrase, hook_privilege_fix(hook.argv));
        log->error("{}", why);
        return fail(ErrorKind::Hook, std::move(why));
      }
      log->error("{}: {}", label, how);
      return fail(ErrorKind::Hook, label + " " + how + said(*outcome));
    }
    log->info("{}: {} in {} ms", label, how, outcome->elapsed.count());
  }
  return ok();
}

}  // namespace certagent::agent
