// `certagent certs`: Get-CsCertificate minus its flaw — for each purpose, the
// bound certificate's thumbprint (SHA-1, as Windows prints it), subject,
// issuer, validity and EVERY name, never truncated, plus the names the
// policy requires for that purpose that the certificate lacks.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <iostream>
#include <set>

#include "agent/cli/commands.hpp"
#include "agent/engine/policy_file.hpp"
#include "agent/cli/purpose_names.hpp"

namespace certagent::agent {
namespace {

struct PurposeView {
  std::string purpose;
  const StoredVersion* version = nullptr;
  std::vector<std::string> missing;
};

boost::json::object to_json(const PurposeView& v) {
  boost::json::array names, missing;
  for (const auto& m : v.missing) missing.emplace_back(m);
  boost::json::object o{{"purpose", v.purpose}, {"bound", v.version != nullptr}};
  if (v.version) {
    const auto& m = v.version->meta;
    for (const auto& n : m.names) names.emplace_back(n);
    o["thumbprint"] = m.thumbprint;
    o["sha256"] = m.sha256;
    o["subject"] = m.subject;
    o["issuer"] = m.issuer;
    o["not_before"] = format_rfc3339(m.not_before);
    o["not_after"] = format_rfc3339(m.not_after);
    o["serial"] = m.serial;
    o["version"] = v.version->id;
    o["certificate_id"] = m.certificate_id;
    if (!m.profile.empty()) o["profile"] = m.profile;
  } else {
    for (const char* k : {"thumbprint", "sha256", "subject", "issuer", "not_before", "not_after"}) o[k] = nullptr;
  }
  o["names"] = std::move(names);
  o["missing"] = std::move(missing);
  return o;
}

void print_text(const PurposeView& v) {
  std::cout << fmt::format("Use        : {}\n", v.purpose);
  if (!v.version) {
    std::cout << "Thumbprint : (nothing bound)\n";
  } else {
    const auto& m = v.version->meta;
    std::cout << fmt::format("Thumbprint : {}\nSubject    : {}\nIssuer     : {}\nNotBefore  : {}\nNotAfter   : {}\n",
                             m.thumbprint, m.subject, m.issuer, format_rfc3339(m.not_before),
                             format_rfc3339(m.not_after));
    if (!m.profile.empty()) std::cout << fmt::format("Profile    : {}\n", m.profile);
    std::cout << fmt::format("Names      : {} name(s)\n", m.names.size());
    for (const auto& n : m.names) std::cout << "             " << n << "\n";
  }
  std::cout << "Missing    : " << (v.missing.empty() ? "(none)" : fmt::format("{}", fmt::join(v.missing, ", ")))
            << "\n\n";
}

Result<Inventory> read_inventory(const std::string& state_dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(state_dir, ec))) return Inventory{};
  auto store = Store::open(state_dir);
  if (!store) return std::unexpected(store.error());
  return store->inventory();
}

int run_certs(const GlobalOptions& globals) {
  PurposeNamesMap required;
  int code = kExitOk;
  if (std::filesystem::exists(globals.policy)) {
    auto policy = load_policy(globals.policy);
    if (policy) required = required_names_by_purpose(*policy);
    else { std::cerr << policy.error().message << "\n"; code = kExitUsage; }
  }
  auto inventory = read_inventory(globals.state_dir);
  if (!inventory) {
    std::cerr << "certagent certs: " << inventory.error().message << "\n";
    return kExitFailed;
  }
  std::set<std::string> purposes;
  for (const auto& [p, names] : required) purposes.insert(p);
  for (const auto& b : inventory->bindings) purposes.insert(b.purpose);
  boost::json::array out;
  for (const auto& p : purposes) {
    PurposeView v{p, bound_version(*inventory, p), {}};
    auto it = required.find(p);
    if (it != required.end()) v.missing = missing_names(it->second, v.version ? v.version->meta.names
                                                                             : std::vector<std::string>{});
    if (globals.json) out.push_back(to_json(v));
    else print_text(v);
  }
  if (globals.json) std::cout << boost::json::serialize(out) << "\n";
  return code;
}

}  // namespace

void register_certs_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* cmd = app.add_subcommand("certs", "Show each purpose's bound certificate with every name, and what it lacks "
                                          "(Get-CsCertificate)");
  cmd->callback([&globals, &exit_code] { exit_code = run_certs(globals); });
}

}  // namespace certagent::agent
