// `certagent request --type T1[,T2] [--all-sip-domains | --domain-name "a,b"] [--assign]`:
// Request-CsCertificate -New in one step — the names from the policy, a new
// key of the policy's type, the CSR, the ACME order, the result stored; prints
// the thumbprint. --assign also binds it (with assign's checks and the hooks).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

#include "agent/cli/assign_check.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/writer.hpp"
#include "agent/engine/engine.hpp"
#include "agent/engine/consumers.hpp"
#include "agent/engine/solver.hpp"
#include "agent/engine/work.hpp"
#include "agent/engine/policy_file.hpp"
#include "agent/cli/request_names.hpp"
#include "agent/engine/system_waiter.hpp"

namespace certagent::agent {
namespace {

struct RequestOptions {
  std::string types;
  bool all_sip_domains = false;
  std::string domain_names;
  bool assign = false;
};

int fail_with(const Error& e, int code = kExitFailed) {
  std::cerr << "certagent request: " << e.message << "\n";
  return code;
}

int bind_requested(EngineContext& ctx, const StoredVersion& v, const std::vector<std::string>& purposes,
                   const policy::Policy& policy) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto refusals = assign_refusals(v, purposes, required_names_by_purpose(policy), now);
  for (const auto& r : refusals) std::cerr << "certagent request: not assigned: " << r << "\n";
  if (!refusals.empty()) return kExitFailed;
  auto bound = bind_version(ctx, purposes, v.id);
  if (!bound) return fail_with(bound.error());
  std::cout << fmt::format("assigned to {}\n", fmt::join(purposes, ", "));
  return kExitOk;
}

int run_request(const GlobalOptions& globals, const RequestOptions& o) {
  auto policy = load_policy(globals.policy);
  if (!policy) return fail_with(policy.error(), kExitUsage);
  std::optional<std::vector<std::string>> domains;
  if (!o.domain_names.empty()) domains = split_list(o.domain_names);
  auto plan = request_plan(*policy, split_list(o.types), domains);
  if (!plan) return fail_with(plan.error(), kExitUsage);
  if (!plan->added.empty())
    std::cerr << fmt::format("certagent: added {}: {}\n", fmt::join(plan->added, ", "), plan->added_because);
  auto store = open_store_for_writing(globals.state_dir);
  if (!store) return fail_with(store.error());
  SystemClock clock;
  SleepingWaiter waiter;
  auto ca = open_ca(*store, policy->ca, 1, clock, waiter);
  if (!ca) return fail_with(ca.error());
  auto solver = start_solver(policy->challenges, nullptr, &*store);
  if (!solver) return fail_with(solver.error());
  SharedStore shared(*store);
  EngineContext ctx{&shared, &ca->access, solver->get(), &clock, &waiter, consumers_from_policy(*policy)};
  if (plan->profile)
    if (auto offered = check_profile(ca->connections.front().session->directory(), *plan->profile,
                                     policy->ca.directory_url);
        !offered)
      return fail_with(offered.error(), kExitUsage);
  auto version = obtain_version(ctx, *ca->connections.front().session,
                                OrderRequest{plan->certificate_id, plan->names, plan->key, "",
                                             plan->profile ? plan->profile->name : ""});
  if (!version) return fail_with(version.error());
  std::cout << fmt::format("Thumbprint : {}\nNames      : {}\n", version->meta.thumbprint,
                           fmt::join(version->meta.names, ", "));
  const int code = o.assign ? bind_requested(ctx, *version, split_list(o.types), *policy) : kExitOk;
  notify_daemon_after_writing(globals.state_dir);
  return code;
}

}  // namespace

void register_request_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto [cmd, o] = add_command(app, "request", "Obtain a new certificate for purposes, with the names the policy "
                                              "gives them (Request-CsCertificate -New)", globals, exit_code,
                              run_request);
  add_types_option(*cmd, o->types);
  auto* all = cmd->add_flag("--all-sip-domains", o->all_sip_domains,
                            "Autodiscover names for every SIP domain of the policy (the default)");
  auto* list = cmd->add_option("--domain-name", o->domain_names,
                               "The Autodiscover FQDNs to include instead, comma-separated; each with the prefix of a "
                               "requested type: lyncdiscover.<sip domain> (WebServicesExternal), "
                               "lyncdiscoverinternal.<sip domain> (WebServicesInternal)");
  all->excludes(list);
  cmd->add_flag("--assign", o->assign, "Also bind the new certificate to the purposes (with assign's checks)");
}

}  // namespace certagent::agent
