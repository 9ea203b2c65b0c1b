// The unattended agent (`certagent run`, the real binary, not --once) against pebble: renewal
// on schedule, policy edits while it runs, signals and crashes during an order, the CA going
// away during a renewal, and the systemd notifications. Every wait is a poll with a generous
// deadline (the test machine is small and busy); nothing asserts tight timings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <set>

#include <boost/json.hpp>

#include "daemon_support.hpp"
#include "pebble_instances.hpp"

namespace certagent::integration {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> thumbprints(const EngineSandbox& box) {
  std::map<std::string, std::string> out;
  for (const auto& [p, c] : box.certs()) out[p] = thumbprint_of(c);
  return out;
}

bool all_bound(const EngineSandbox& box) {
  auto t = thumbprints(box);
  return !t.empty() && std::all_of(t.begin(), t.end(), [](const auto& kv) { return kv.second.size() == 40; });
}

// `status --json` (it reads the state directory only, not the policy).
boost::json::value status(const EngineSandbox& box) {
  auto r = box.certagent({"--json", "status"});
  if (r.out.empty()) throw std::runtime_error("status --json failed: " + r.err);
  return boost::json::parse(r.out);
}

// Purpose -> bound thumbprint, from `status --json` (usable while the policy is invalid).
std::map<std::string, std::string> bound_thumbprints(const EngineSandbox& box) {
  const auto doc = status(box);
  std::map<std::string, std::string> out;
  for (const auto& c : doc.at("certificates").as_array())
    for (const auto& p : c.at("purposes").as_array()) {
      const auto* t = p.as_object().if_contains("thumbprint");
      out[std::string(p.at("purpose").as_string())] = t && t->is_string() ? std::string(t->as_string()) : "";
    }
  return out;
}

// Certificate id -> its schedule's consecutive_failures (-1: no schedule).
std::map<std::string, long> failures(const EngineSandbox& box) {
  const auto doc = status(box);
  std::map<std::string, long> out;
  for (const auto& c : doc.at("certificates").as_array()) {
    const auto& s = c.at("schedule");
    out[std::string(c.at("id").as_string())] = s.is_null() ? -1 : s.at("consecutive_failures").to_number<long>();
  }
  return out;
}

std::string exits(AgentProcess& agent) {
  agent.signal(SIGTERM);
  auto code = agent.wait_exit(15s);
  return code ? std::to_string(*code) : "still running 15 s after SIGTERM";
}

constexpr auto kFirstPass = 90s;  // the first issuance, on a busy machine

TEST(Daemon, RenewsOnScheduleWithoutIntervention) {
  EngineSandbox box("shortlived");  // certificates live two minutes
  PoolPolicy policy = pool("shared");
  policy.renewal = "95%";  // renew when 95% of the lifetime remains: ~6 s after issuance
  box.write_policy(policy);
  AgentProcess agent(box, box.dir() / "agent.log");
  std::set<std::string> seen;
  const bool renewed_twice = poll_until([&] {
    if (auto t = thumbprints(box)["Default"]; t.size() == 40) seen.insert(t);
    return seen.size() >= 3;
  }, kFirstPass + 60s);
  EXPECT_TRUE(renewed_twice) << "thumbprints seen: " << seen.size() << "\n" << agent.log();
  EXPECT_GE(agent.log_count("pass (timer) done"), 2u) << agent.log();
  EXPECT_GE(agent.log_count(": renew — certificate"), 2u) << "each renewal says why";
  EXPECT_EQ(exits(agent), "0") << agent.log();
}

TEST(Daemon, ReadinessStatusAndWatchdogReachTheNotifySocket) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  NotifySocket notify(box.dir() / "notify.sock");
  AgentProcess agent(box, box.dir() / "agent.log", {}, {notify.env(), "WATCHDOG_USEC=1000000"});
  ASSERT_TRUE(notify.wait_for("READY=1", kFirstPass)) << agent.log();
  EXPECT_TRUE(all_bound(box)) << "READY=1 comes after the first pass has bound every purpose";
  EXPECT_EQ(notify.count("READY=1"), 1u);
  EXPECT_GE(notify.count("STATUS="), 1u);
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1", 20s, 2)) << "WATCHDOG=1 every half interval";
  agent.signal(SIGTERM);
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 15s));
  EXPECT_EQ(agent.wait_exit(15s), std::optional<int>(0)) << agent.log();
  bool status_says_current = false;
  for (const auto& l : notify.lines()) status_says_current |= l.rfind("STATUS=", 0) == 0 && l.find("all current") != std::string::npos;
  EXPECT_TRUE(status_says_current) << "a STATUS= line describes the pass";
}

TEST(Daemon, SipDomainAppendedWhileRunningIsReissuedWithinSeconds) {
  EngineSandbox box;
  PoolPolicy policy = pool("separate");
  box.write_policy(policy);
  AgentProcess agent(box, box.dir() / "agent.log");
  ASSERT_TRUE(agent.wait_for_log("pass (startup) done", kFirstPass)) << agent.log();
  ASSERT_TRUE(all_bound(box)) << agent.log();
  const auto before = thumbprints(box);
  const auto orders = new_order_count(box.pebble());

  policy.sip_domains.push_back("northwind.com");
  box.replace_policy(box.policy_text(policy));
  const bool reissued = poll_until([&] {
    auto certs = box.certs();
    const auto ext = names_of(certs.at("WebServicesExternal")), in = names_of(certs.at("WebServicesInternal"));
    return std::count(ext.begin(), ext.end(), "lyncdiscover.northwind.com") == 1 &&
           std::count(in.begin(), in.end(), "lyncdiscoverinternal.northwind.com") == 1;
  }, 45s);
  ASSERT_TRUE(reissued) << agent.log();
  const auto after = thumbprints(box);
  EXPECT_EQ(after.at("Default"), before.at("Default")) << "Default carries no Autodiscover name: untouched";
  EXPECT_NE(after.at("WebServicesExternal"), before.at("WebServicesExternal"));
  EXPECT_NE(after.at("WebServicesInternal"), before.at("WebServicesInternal"));
  EXPECT_EQ(new_order_count(box.pebble()), orders + 2) << "exactly the two affected certificates";
  EXPECT_GE(agent.log_count("changed: reloading the policy"), 1u);
  EXPECT_EQ(exits(agent), "0") << agent.log();
}

TEST(Daemon, InvalidPolicyWhileRunningLeavesThePreviousPolicyInForce) {
  EngineSandbox box;
  PoolPolicy policy = pool("shared");
  box.write_policy(policy);
  AgentProcess agent(box, box.dir() / "agent.log");
  ASSERT_TRUE(agent.wait_for_log("pass (startup) done", kFirstPass)) << agent.log();
  const auto before = bound_thumbprints(box);
  ASSERT_EQ(before.at("Default").size(), 40u);
  const auto orders = new_order_count(box.pebble());

  // The new SIP domain and, on line 2, a key the policy does not know.
  policy.sip_domains.push_back("northwind.com");
  const std::string valid = box.policy_text(policy);
  box.replace_policy("{\n  \"bogus\": 1,\n" + valid.substr(1));
  ASSERT_TRUE(agent.wait_for_log("the policy is invalid", 30s)) << agent.log();
  EXPECT_TRUE(std::regex_search(agent.log(), std::regex(R"(policy\.json:2:3: )"))) << agent.log();
  EXPECT_TRUE(agent.running());
  EXPECT_EQ(bound_thumbprints(box), before) << "bindings unchanged";
  EXPECT_EQ(new_order_count(box.pebble()), orders) << "no order for the invalid policy";

  box.replace_policy(valid);  // the fix is picked up
  const bool reissued = poll_until([&] {
    auto names = names_of(box.certs().at("Default"));
    return std::count(names.begin(), names.end(), "lyncdiscover.northwind.com") == 1;
  }, 45s);
  EXPECT_TRUE(reissued) << agent.log();
  EXPECT_EQ(exits(agent), "0") << agent.log();
}

TEST(Daemon, SigtermDuringAnOrderExitsZeroAndTheNextStartCompletesTheWork) {
  EngineSandbox box;
  // A dns-01 hook that never finishes publishing: the order stays in flight.
  const auto marker = box.dir() / "hook-started";
  const auto hook = box.dir() / "slow-dns-hook";
  std::ofstream(hook) << "#!/bin/sh\necho \"$@\" >> '" << marker.string() << "'\nexec sleep 60\n";
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);
  PoolPolicy policy = pool("shared");
  policy.dns01_hook = hook.string();
  box.write_policy(policy);
  AgentProcess agent(box, box.dir() / "agent.log");
  ASSERT_TRUE(poll_until([&] { return std::filesystem::exists(marker); }, kFirstPass)) << agent.log();

  const auto t0 = std::chrono::steady_clock::now();
  agent.signal(SIGTERM);
  const auto code = agent.wait_exit(40s);
  const auto took = std::chrono::steady_clock::now() - t0;
  // Exit 0: the pass returned (the hook ended by the cancel) — a pass still waiting for the
  // 60 s hook would be abandoned after the 20 s grace with exit 1.
  ASSERT_EQ(code, std::optional<int>(0)) << agent.log();
  EXPECT_LT(took, 20s) << "a clean exit before the grace ran out";
  EXPECT_FALSE(all_bound(box));

  // The next start, with a challenge pebble can check, completes the work.
  policy.dns01_hook.clear();
  box.write_policy(policy);
  AgentProcess next(box, box.dir() / "agent2.log");
  EXPECT_TRUE(next.wait_for_log("pass (startup) done", kFirstPass)) << next.log();
  EXPECT_TRUE(all_bound(box)) << next.log();
  EXPECT_EQ(exits(next), "0") << next.log();
}

TEST(Daemon, KilledBeforeFinalizeTheNextStartResumesTheJournaledOrder) {
  EngineSandbox box;
  box.write_policy(pool("shared"));
  {
    AgentProcess killed(box, box.dir() / "agent.log", {}, {"CERTAGENT_FAULT_KILL=engine.order.before_finalize"});
    ASSERT_EQ(killed.wait_exit(kFirstPass), std::optional<int>(128 + SIGKILL)) << killed.log();
  }
  ASSERT_TRUE(std::filesystem::exists(box.state() / "orders" / "front-end.json"));
  const auto orders = new_order_count(box.pebble());
  AgentProcess next(box, box.dir() / "agent2.log");
  ASSERT_TRUE(next.wait_for_log("pass (startup) done", kFirstPass)) << next.log();
  EXPECT_TRUE(all_bound(box)) << next.log();
  EXPECT_EQ(new_order_count(box.pebble()), orders) << "the journaled order was finished, no new one";
  EXPECT_GE(next.log_count("resuming order"), 1u) << next.log();
  EXPECT_EQ(exits(next), "0") << next.log();
}

TEST(Daemon, CaDownDuringARenewalBacksOffKeepsTheOldCertificateAndRecovers) {
  PebbleInstances ca({"down=default,certificateValidityPeriod=600"});
  EngineSandbox box(ca.env("down"));
  PoolPolicy policy = pool("shared");
  policy.renewal = "98%";  // due 12 s after issuance
  box.write_policy(policy);
  AgentProcess agent(box, box.dir() / "agent.log", {}, {"CERTAGENT_BACKOFF_INITIAL=3"});
  ASSERT_TRUE(agent.wait_for_log("pass (startup) done", kFirstPass)) << agent.log();
  ASSERT_TRUE(all_bound(box)) << agent.log();
  ca.stop("down");
  const auto bound = thumbprints(box).at("Default");  // (a renewal may have slipped in before the stop)

  ASSERT_TRUE(poll_until([&] { return failures(box)["front-end"] >= 1; }, 60s)) << agent.log();
  EXPECT_EQ(thumbprints(box).at("Default"), bound) << "the old certificate stays bound";
  EXPECT_GE(agent.log_count("retry at"), 1u) << agent.log();
  EXPECT_TRUE(agent.running());

  ca.restart("down");  // a new pebble: it knows neither the account nor any order
  const bool recovered = poll_until([&] { return thumbprints(box).at("Default") != bound; }, 60s);
  EXPECT_TRUE(recovered) << agent.log();
  EXPECT_GE(agent.log_count("no longer knows account"), 1u) << "the lost account is registered again\n" << agent.log();
  // The success is recorded once the pass has finished binding.
  EXPECT_TRUE(poll_until([&] { return failures(box)["front-end"] == 0; }, 20s)) << agent.log();
  EXPECT_TRUE(all_bound(box));
  EXPECT_EQ(exits(agent), "0") << agent.log();
}

TEST(Daemon, ACaThatForgotTheJournaledOrderAndTheAccountIsHandledCleanly) {
  PebbleInstances ca({"reset=default"});
  EngineSandbox box(ca.env("reset"));
  box.write_policy(pool("shared"));
  {
    AgentProcess killed(box, box.dir() / "agent.log", {}, {"CERTAGENT_FAULT_KILL=engine.order.before_finalize"});
    ASSERT_EQ(killed.wait_exit(kFirstPass), std::optional<int>(128 + SIGKILL)) << killed.log();
  }
  ASSERT_TRUE(std::filesystem::exists(box.state() / "orders" / "front-end.json"));
  ca.stop("reset");
  ca.restart("reset");  // knows neither the journaled order nor the account
  AgentProcess next(box, box.dir() / "agent2.log");
  ASSERT_TRUE(next.wait_for_log("pass (startup) done", kFirstPass)) << next.log();
  EXPECT_TRUE(all_bound(box)) << next.log();
  EXPECT_GE(next.log_count("not resuming the journaled order"), 1u) << next.log();
  EXPECT_GE(next.log_count("no longer knows account"), 1u) << next.log();
  EXPECT_FALSE(std::filesystem::exists(box.state() / "orders" / "front-end.json"));
  EXPECT_EQ(failures(box)["front-end"], 0) << next.log();
  EXPECT_EQ(exits(next), "0") << next.log();
}

}  // namespace
}  // namespace certagent::integration
