#include "agent/cli/plan_persist.hpp"

#include "policy/challenge_select.hpp"

#include <algorithm>
#include <chrono>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "agent/cli/directory_fetch.hpp"
#include "agent/engine/options.hpp"
#include "agent/store/store.hpp"
#include "policy/challenge_select.hpp"
#include "protocol/acme/directory.hpp"
#include "protocol/dns/txt_lookup.hpp"

namespace certagent::agent {
namespace json = boost::json;
namespace {

Result<std::string> stored_account_uri(const std::string& state_dir, const std::string& directory_url) {
  std::error_code ec;
  if (!std::filesystem::exists(state_dir, ec)) return std::string();
  auto store = Store::open(state_dir);
  if (!store) return std::unexpected(store.error());
  auto account = store->load_account(directory_url);
  if (!account) return std::unexpected(account.error());
  return *account ? (*account)->account_url : std::string();
}

// The CA's first caaIdentity: the issuer domain name a CA names in its dns-persist-01 challenges.
Result<std::string> directory_issuer_domain(const policy::CaConfig& ca) {
  auto body = fetch_directory_body(ca.directory_url, ca.trust_bundle.value_or(""));
  if (!body) return std::unexpected(body.error());
  auto dir = protocol::parse_directory(*body, ca.directory_url);
  if (!dir) return std::unexpected(dir.error());
  if (dir->caa_identities.empty())
    return fail(ErrorKind::Protocol, "its directory lists no meta.caaIdentities; name the CA's issuer domain in "
                                     "the policy's challenge.issuer_domain");
  return dir->caa_identities.front();
}

// The dns-persist-01 entry of the policy that validates `name`, or null.
const policy::Challenge* persist_entry(const policy::Policy& policy, const std::string& name) {
  if (policy.challenges.empty()) return nullptr;
  const auto& c = policy.challenges[policy::challenge_index(policy.challenges, name)];
  return c.type == policy::Challenge::Type::DnsPersist01 ? &c : nullptr;
}

// Every name dns-persist-01 validates, once; a name whose wildcard is also asked for is left out:
// the wildcard's record (same owner, policy=wildcard) serves both.
std::vector<std::string> plan_names(const policy::Policy& policy, const std::vector<policy::Action>& actions) {
  std::vector<std::string> names;
  for (const auto& a : actions)
    for (const auto& n : a.certificate.names)
      if (persist_entry(policy, n.name) != nullptr && std::find(names.begin(), names.end(), n.name) == names.end())
        names.push_back(n.name);
  std::erase_if(names, [&](const std::string& n) {
    return std::find(names.begin(), names.end(), "*." + n) != names.end();
  });
  return names;
}

void check_row(PersistRow& row, const protocol::TxtLookupOptions& lookup, const std::string& issuer, long long now) {
  auto txts = protocol::lookup_txt(row.expected.name, lookup);
  if (!txts) {
    row.detail = txts.error().message;
    return;
  }
  auto check = protocol::check_persist_record(row.expected, *txts, {issuer}, now);
  row.verdict = check.verdict;
  row.detail = check.detail;
}

}  // namespace

PersistPlan persist_plan(const policy::Policy& policy, const std::vector<policy::Action>& actions,
                         const std::string& state_dir, bool check_dns) {
  PersistPlan plan;
  const auto named = std::find_if(policy.challenges.begin(), policy.challenges.end(), [](const policy::Challenge& c) {
    return c.type == policy::Challenge::Type::DnsPersist01 && c.issuer_domain;
  });
  if (named != policy.challenges.end()) {
    plan.issuer_domain = *named->issuer_domain;
  } else if (auto issuer = directory_issuer_domain(policy.ca)) {
    plan.issuer_domain = *issuer;
  } else {
    plan.notes.push_back("issuer domain unknown: reading the CA's directory " + policy.ca.directory_url + ": " +
                         issuer.error().message);
  }
  if (auto account = stored_account_uri(state_dir, policy.ca.directory_url); !account)
    plan.notes.push_back("account unknown: " + account.error().message);
  else if (account->empty())
    plan.notes.push_back("no account with this CA yet: `certagent request` or `certagent run` registers one (and "
                         "stops at the missing records, naming them); run `certagent plan` again then");
  else
    plan.account_uri = *account;
  for (const auto& name : plan_names(policy, actions))
    plan.rows.push_back(PersistRow{name, protocol::expected_persist_record(name, plan.issuer_domain, plan.account_uri),
                                   std::nullopt, ""});
  if (!check_dns) return plan;
  plan.checked = true;
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  for (auto& row : plan.rows) {
    if (plan.issuer_domain.empty() || plan.account_uri.empty()) row.detail = "the expected value is not known yet";
    else check_row(row, protocol::TxtLookupOptions{persist_entry(policy, row.dns_name)->resolver}, plan.issuer_domain, now);
  }
  return plan;
}

namespace {

bool value_known(const PersistPlan& plan) { return !plan.issuer_domain.empty() && !plan.account_uri.empty(); }

std::string verdict_text(const PersistRow& row) {
  return row.verdict ? std::string(protocol::to_string(*row.verdict)) : std::string("unknown");
}

}  // namespace

std::string persist_table(const PersistPlan& plan) {
  std::string out = "\ndns-persist-01 records (create each once; certagent never writes DNS):\n";
  for (const auto& note : plan.notes) out += "  note: " + note + "\n";
  for (const auto& row : plan.rows) {
    out += fmt::format("  {:<40} TXT {}\n", row.expected.name,
                       value_known(plan) ? "\"" + protocol::persist_record_value(row.expected) + "\"" : "(unknown)");
    if (!plan.checked) continue;
    out += fmt::format("    {}{}\n", verdict_text(row),
                       row.verdict == protocol::PersistVerdict::Present ? "" : ": " + row.detail);
  }
  return out;
}

json::value persist_json(const PersistPlan& plan) {
  json::object o;
  o["issuer_domain"] = plan.issuer_domain;
  o["account_uri"] = plan.account_uri;
  json::array notes;
  for (const auto& n : plan.notes) notes.emplace_back(n);
  o["notes"] = std::move(notes);
  json::array records;
  for (const auto& row : plan.rows) {
    json::object r;
    r["dns_name"] = row.dns_name;
    r["record"] = row.expected.name;
    r["value"] = value_known(plan) ? protocol::persist_record_value(row.expected) : std::string();
    r["wildcard"] = row.expected.wildcard;
    if (plan.checked) {
      r["check"] = verdict_text(row);
      if (row.verdict != protocol::PersistVerdict::Present) r["detail"] = row.detail;
    }
    records.push_back(std::move(r));
  }
  o["records"] = std::move(records);
  return o;
}

int persist_exit_code(const PersistPlan& plan) {
  bool incomplete = false;
  for (const auto& row : plan.rows) {
    if (!row.verdict) return kExitFailed;
    if (*row.verdict != protocol::PersistVerdict::Present) incomplete = true;
  }
  return incomplete ? kExitIncomplete : kExitOk;
}

}  // namespace certagent::agent
