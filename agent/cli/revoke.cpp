// `certagent revoke --thumbprint X [--reason R] [--force]`: revokes a stored
// certificate at its CA (RFC 8555 §7.6, signed by the account; when the CA refuses the
// account — a certificate ordered under an earlier account — signed again with the
// certificate's own key). Refuses one that is still bound to a purpose unless --force (logged).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <map>

#include "agent/store/version_files.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/writer.hpp"
#include "agent/engine/engine.hpp"
#include "agent/engine/acme.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/logging.hpp"
#include "agent/engine/policy_file.hpp"
#include "agent/engine/system_waiter.hpp"
#include "protocol/acme/revoke.hpp"
#include "protocol/x509/certificate.hpp"
#include "protocol/x509/keys.hpp"

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

// RFC 8555 §7.6: the account may not revoke it (not the account that ordered it, and no
// authorizations for its names); whoever holds the certificate's key may.
bool refused_the_account(const Error& e) {
  return e.kind == ErrorKind::Unauthorized || e.problem_type == "urn:ietf:params:acme:error:unauthorized";
}

int fail_with(const Error& e, int code = kExitFailed) {
  std::cerr << "certagent revoke: " << e.message << "\n";
  return code;
}

Result<void> revoke_at_ca(Store& store, const policy::Policy& policy, const StoredVersion& v,
                          protocol::RevocationReason reason) {
  auto pem = read_version_file(v, VersionFile::Cert);
  if (!pem) return std::unexpected(pem.error());
  auto chain = protocol::parse_pem_chain(*pem);
  if (!chain) return std::unexpected(chain.error());
  SystemClock clock;
  SleepingWaiter waiter;
  auto ca = open_ca(store, policy.ca, 1, clock, waiter);
  if (!ca) return std::unexpected(ca.error());
  auto& session = *ca->connections.front().session;
  auto by_account = protocol::revoke_certificate(session, chain->front(), reason);
  if (by_account || !refused_the_account(by_account.error())) return by_account;
  module_logger("engine")->warn("{}: the CA refused the revocation signed by the account ({}); signing it with "
                                "the certificate's own key", v.meta.thumbprint, by_account.error().message);
  auto key_pem = read_version_file(v, VersionFile::Key);
  if (!key_pem) return std::unexpected(key_pem.error());
  auto key = protocol::PrivateKey::from_pem(*key_pem);
  if (!key) return std::unexpected(key.error());
  return protocol::revoke_certificate_with_key(session, chain->front(), reason, *key);
}

int run_revoke(const GlobalOptions& globals, const RevokeOptions& o) {
  auto reason = parse_reason(o.reason);
  if (!reason) return fail_with(reason.error(), kExitUsage);
  auto policy = load_policy(globals.policy);
  if (!policy) return fail_with(policy.error(), kExitUsage);
  auto store = open_store_for_writing(globals.state_dir);
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
  auto [cmd, o] = add_command(app, "revoke", "Revoke a stored certificate at its CA (refuses a bound one; signs "
                                             "with the certificate's own key when the CA refuses the account)",
                              globals, exit_code, run_revoke);
  add_thumbprint_option(*cmd, o->thumbprint);
  cmd->add_option("--reason", o->reason, "unspecified, keyCompromise, affiliationChanged, superseded, "
                                         "cessationOfOperation")->capture_default_str();
  cmd->add_flag("--force", o->force, "Revoke even though it is still bound (logged)");
}

}  // namespace certagent::agent
