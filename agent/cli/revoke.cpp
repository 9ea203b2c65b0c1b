// `certagent revoke --thumbprint X [--reason R] [--force]`: revokes a stored
// certificate at its CA (RFC 8555 §7.6, signed by the account). Refuses one
// that is still bound to a purpose unless --force (logged).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <map>

#include "agent/cli/commands.hpp"
#include "agent/engine/acme.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/logging.hpp"
#include "agent/engine/policy_file.hpp"
#include "agent/engine/system_waiter.hpp"
#include "protocol/acme/revoke.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::agent {
namespace {

struct RevokeOptions {
  std::string thumbprint;
  std::string reason = "unspecified";
  bool force = false;
};

Result<protocol::RevocationReason> parse_reason(const std::string& text) {
  using R = protocol::RevocationReason;
  static const std::map<std::string, R> kReasons = {
      {"unspecified", R::Unspecified},       {"keyCompromise", R::KeyCompromise},
      {"affiliationChanged", R::AffiliationChanged}, {"superseded", R::Superseded},
      {"cessationOfOperation", R::CessationOfOperation}};
  auto it = kReasons.find(text);
  if (it == kReasons.end())
    return fail(ErrorKind::Invalid, fmt::format("--reason \"{}\": use unspecified, keyCompromise, affiliationChanged, "
                                                "superseded or cessationOfOperation", text));
  return it->second;
}

std::vector<std::string> bound_purposes(const Inventory& inv, const std::string& id) {
  std::vector<std::string> out;
  for (const auto& b : inv.bindings)
    if (b.version_id == id) out.push_back(b.purpose);
  return out;
}

int fail_with(const Error& e, int code = kExitFailed) {
  std::cerr << "certagent revoke: " << e.message << "\n";
  return code;
}

Result<void> revoke_at_ca(Store& store, const policy::Policy& policy, const StoredVersion& v,
                          protocol::RevocationReason reason) {
  auto pem = fsutil::read_file(v.dir / "cert.pem");
  if (!pem) return std::unexpected(pem.error());
  auto chain = protocol::parse_pem_chain(*pem);
  if (!chain) return std::unexpected(chain.error());
  SystemClock clock;
  SleepingWaiter waiter;
  auto ca = open_ca(store, policy.ca, 1, clock, waiter);
  if (!ca) return std::unexpected(ca.error());
  return protocol::revoke_certificate(*ca->connections.front().session, chain->front(), reason);
}

int run_revoke(const GlobalOptions& globals, const RevokeOptions& o) {
  auto reason = parse_reason(o.reason);
  if (!reason) return fail_with(reason.error(), kExitUsage);
  auto policy = load_policy(globals.policy);
  if (!policy) return fail_with(policy.error(), kExitUsage);
  auto store = Store::open(globals.state_dir, OpenOptions{true, std::chrono::seconds(30)});
  if (!store) return fail_with(store.error());
  auto found = store->find_by_thumbprint(o.thumbprint);
  if (!found) return fail_with(found.error(), kExitUsage);
  if (!*found) return fail_with(Error{ErrorKind::Invalid, "no certificate with thumbprint " + o.thumbprint + " is stored"});
  auto inv = store->inventory();
  if (!inv) return fail_with(inv.error());
  auto bound = bound_purposes(*inv, (*found)->id);
  if (!bound.empty() && !o.force)
    return fail_with(Error{ErrorKind::Invalid, fmt::format("{} is still bound to {}; bind another certificate first, "
                                                           "or use --force", (*found)->meta.thumbprint,
                                                           fmt::join(bound, ", "))});
  if (!bound.empty())
    module_logger("engine")->warn("revoke --force: {} is still bound to {}", (*found)->meta.thumbprint,
                                  fmt::join(bound, ", "));
  if (auto r = revoke_at_ca(*store, *policy, **found, *reason); !r) return fail_with(r.error());
  std::cout << fmt::format("revoked {} ({})\n", (*found)->meta.thumbprint, o.reason);
  return kExitOk;
}

}  // namespace

void register_revoke_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto o = std::make_shared<RevokeOptions>();
  auto* cmd = app.add_subcommand("revoke", "Revoke a stored certificate at its CA (refuses a bound one)");
  cmd->add_option("--thumbprint", o->thumbprint, "The certificate's SHA-1 thumbprint (or SHA-256)")->required();
  cmd->add_option("--reason", o->reason, "unspecified, keyCompromise, affiliationChanged, superseded, "
                                         "cessationOfOperation")->capture_default_str();
  cmd->add_flag("--force", o->force, "Revoke even though it is still bound (logged)");
  cmd->callback([o, &globals, &exit_code] { exit_code = run_revoke(globals, *o); });
}

}  // namespace certagent::agent
