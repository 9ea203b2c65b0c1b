// `certagent certs`: Get-CsCertificate minus its flaw — for each purpose, the
// bound certificate's thumbprint (SHA-1, as Windows prints it), subject,
// issuer, validity and EVERY name, never truncated, plus the names the
// policy requires for that purpose that the certificate lacks. `--format powershell`: the
// script that binds the same on the Lync server (certs_powershell.hpp).
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "agent/cli/certs_powershell.hpp"
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

PowerShellPurpose powershell_purpose(const PurposeView& v, const policy::Policy& policy) {
  PowerShellPurpose p{v.purpose, "", 0, "", {}, {}, false};
  if (v.version) {
    p.thumbprint = v.version->meta.thumbprint;
    p.names = v.version->meta.names.size();
    p.not_after = format_rfc3339(v.version->meta.not_after);
  }
  if (auto it = policy.outputs.find(v.purpose); it != policy.outputs.end()) {
    p.pkcs12 = it->second.pkcs12;
    p.password_file = it->second.pkcs12_password_file;
    p.empty_password = it->second.pkcs12_empty_password;
  }
  return p;
}

// The PowerShell needs the policy: it imports the PKCS#12 files the policy's outputs write.
int print_powershell(const std::vector<PurposeView>& views, const std::optional<policy::Policy>& policy) {
  if (!policy) {
    std::cerr << "certagent certs --format powershell: the policy is needed (the PKCS#12 files its purposes "
                 "write are what the script imports); name it with --policy\n";
    return kExitFailed;
  }
  std::vector<PowerShellPurpose> purposes;
  for (const auto& v : views) purposes.push_back(powershell_purpose(v, *policy));
  auto script = powershell_script(purposes);
  if (!script) {
    std::cerr << "certagent certs --format powershell: " << script.error().message << "\n";
    return kExitFailed;
  }
  std::cout << *script;
  return kExitOk;
}

int run_certs(const GlobalOptions& globals, std::string format) {
  if (globals.json && format == "powershell") {
    std::cerr << "certagent certs: --json and --format powershell contradict each other (--json is --format json)\n";
    return kExitUsage;
  }
  if (globals.json) format = "json";
  PurposeNamesMap required;
  std::optional<policy::Policy> loaded;
  int code = kExitOk;
  if (std::filesystem::exists(globals.policy)) {
    auto policy = load_policy(globals.policy);
    if (policy) required = required_names_by_purpose(*policy), loaded = std::move(*policy);
    else {
      std::cerr << policy.error().message << "\n";
      if (format == "powershell") return kExitUsage;
      code = kExitUsage;
    }
  }
  auto inventory = read_inventory(globals.state_dir);
  if (!inventory) {
    std::cerr << "certagent certs: " << inventory.error().message << "\n";
    return kExitFailed;
  }
  std::set<std::string> purposes;
  for (const auto& [p, names] : required) purposes.insert(p);
  for (const auto& b : inventory->bindings) purposes.insert(b.purpose);
  std::vector<PurposeView> views;
  for (const auto& p : purposes) {
    PurposeView v{p, bound_version(*inventory, p), {}};
    auto it = required.find(p);
    if (it != required.end()) v.missing = missing_names(it->second, v.version ? v.version->meta.names
                                                                             : std::vector<std::string>{});
    views.push_back(std::move(v));
  }
  if (format == "powershell") return print_powershell(views, loaded);
  boost::json::array out;
  for (const auto& v : views) {
    if (format == "json") out.push_back(to_json(v));
    else print_text(v);
  }
  if (format == "json") std::cout << boost::json::serialize(out) << "\n";
  return code;
}

}  // namespace

void register_certs_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto* cmd = app.add_subcommand("certs", "Show each purpose's bound certificate with every name, and what it lacks "
                                          "(Get-CsCertificate)");
  auto format = std::make_shared<std::string>("text");
  cmd->add_option("--format", *format,
                  "text (default), json (the same as --json), or powershell: the script that imports each "
                  "certificate's PKCS#12 file on the Lync server and runs Set-CsCertificate")
      ->check(CLI::IsMember({"text", "json", "powershell"}));
  cmd->callback([&globals, &exit_code, format] { exit_code = run_certs(globals, *format); });
}

}  // namespace certagent::agent
