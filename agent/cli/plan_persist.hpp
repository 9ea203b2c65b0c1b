#pragma once
// `certagent plan` with a dns-persist-01 policy: per name, the _validation-persist TXT record
// the CA expects (issuer domain, the account's URL, policy=wildcard for a wildcard), and
// with --check-dns what DNS holds now (read-only, through the policy's resolver).
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "policy/model.hpp"
#include "policy/plan.hpp"
#include "protocol/dns/persist_record.hpp"

namespace certagent::agent {

struct PersistRow {
  std::string dns_name;                            // as the certificate carries it ("*.a.example")
  protocol::PersistRecord expected;                // value unknown while issuer or account is
  std::optional<protocol::PersistVerdict> verdict; // with --check-dns; unset when DNS could not say
  std::string detail;                              // why missing, wrong or unknown
};

struct PersistPlan {
  std::string issuer_domain;        // "" when unknown (see notes)
  std::string account_uri;          // "" while this CA has no account
  std::vector<std::string> notes;   // what is unknown, and what to do
  std::vector<PersistRow> rows;     // one per name, in plan order, de-duplicated
  bool checked = false;             // --check-dns ran
};

// The records for every name of `actions`. Reads the stored account and, unless the policy
// names the issuer domain, the CA's directory (meta.caaIdentities); with `check_dns` looks
// every record up.
[[nodiscard]] PersistPlan persist_plan(const policy::Policy& policy, const std::vector<policy::Action>& actions,
                                       const std::string& state_dir, bool check_dns);

[[nodiscard]] std::string persist_table(const PersistPlan& plan);
// {"issuer_domain","account_uri","notes":[...],"records":[{"dns_name","record","value","wildcard",
//   "check"?: "present"|"missing"|"wrong"|"unknown", "detail"?}]}
[[nodiscard]] boost::json::value persist_json(const PersistPlan& plan);
// --check-dns: kExitOk when every record is present, kExitIncomplete when one is missing or
// wrong, kExitFailed when DNS could not be read for one.
[[nodiscard]] int persist_exit_code(const PersistPlan& plan);

}  // namespace certagent::agent
