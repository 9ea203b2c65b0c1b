// dns-01 through RFC 2136 against real BIND 9 servers (tests/integration/bind-ctl: a primary and
// a secondary of acme.test with NOTIFY and transfers, and lag.test whose secondary never hears
// of an update), with a pebble that resolves through them. Run as the CTest test
// integration.rfc2136, inside bind-ctl's private network namespace.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "engine_support.hpp"
#include "pebble_env.hpp"

namespace certagent::integration {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

struct BindEnv {
  std::map<std::string, std::string> kv;
  [[nodiscard]] const std::string& at(const std::string& key) const {
    auto it = kv.find(key);
    if (it == kv.end()) throw std::runtime_error("bind.env has no " + key);
    return it->second;
  }
};

BindEnv require_bind_env() {
  const char* dir = std::getenv("CERTAGENT_BIND_DIR");
  if (dir == nullptr)
    throw std::runtime_error("CERTAGENT_BIND_DIR is not set: run these tests through ctest (integration.rfc2136), "
                             "whose tests/integration/bind-ctl starts BIND and pebble");
  std::ifstream in(std::string(dir) + "/bind.env");
  if (!in) throw std::runtime_error(std::string("cannot read ") + dir + "/bind.env");
  BindEnv env;
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) env.kv[line.substr(0, eq)] = line.substr(eq + 1);
  return env;
}

std::string describe(const ProcessOutcome& r) {
  return fmt::format("exit {} signal {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.signal, r.out, r.err);
}

// certagent's dns-01 lines and failures, in the test's output: the timings and errors to read.
void show(const ProcessOutcome& r) {
  std::istringstream in(r.out + r.err);
  for (std::string line; std::getline(in, line);)
    if (line.find("dns-01") != std::string::npos || line.find("issue failed") != std::string::npos)
      std::cout << "[certagent] " << line << "\n";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Rfc2136 : public ::testing::Test {
 protected:
  void SetUp() override {
    bind_ = require_bind_env();
    pebble_ = ok_or_throw(load_pebble_env_from(bind_.at("PEBBLE_DIR"), "default"));
  }

  static PebbleEnv ok_or_throw(Result<PebbleEnv> r) {
    if (!r) throw std::runtime_error(r.error().message);
    return std::move(*r);
  }

  // A custom role whose certificate carries `names`, by dns-01 through RFC 2136.
  void write_policy(const EngineSandbox& box, const std::vector<std::string>& names, const std::string& key_file,
                    json::object extra = {}) const {
    json::object rfc{{"server", bind_.at("PRIMARY")}, {"key_file", key_file}};
    for (const auto& [k, v] : extra) rfc[k] = v;
    json::object policy{
        {"ca", json::object{{"directory", pebble_.directory_url}, {"trust_bundle", pebble_.tls_root}}},
        {"challenge", json::object{{"type", "dns-01"}, {"rfc2136", rfc}}},
        {"roles", json::array{json::object{{"role", "custom"}, {"id", "web"},
                                           {"names", json::object{{"https", json::array(names.begin(), names.end())}}}}}}};
    box.replace_policy(json::serialize(policy) + "\n");
  }

  // Every TXT record of `zone` as `server` holds it (AXFR through dig: not certagent's own code).
  static std::vector<std::string> txt_records(const std::string& zone, const std::string& address) {
    ProcessSpec spec;
    spec.argv = {"dig", "+noall", "+answer", "@" + address, "-p", "53", zone, "AXFR"};
    spec.inherit_path = true;
    auto r = run_process(spec);
    EXPECT_TRUE(r && r->succeeded()) << "dig AXFR " << zone << " @" << address;
    std::vector<std::string> out;
    std::istringstream in(r ? r->out : "");
    for (std::string line; std::getline(in, line);)
      if (line.find("\tTXT\t") != std::string::npos) out.push_back(line);
    return out;
  }

  static bool eventually_no_txt(const std::string& zone, const std::string& address) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!txt_records(zone, address).empty()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  // `run --once` issues one certificate carrying exactly `names`; certagent's output, or "" after
  // a failed expectation (already reported).
  static std::string issue_one(const EngineSandbox& box, const std::vector<std::string>& names) {
    auto r = box.certagent({"run", "--once"});
    show(r);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    auto certs = box.certs();
    EXPECT_EQ(certs.size(), 1u);
    if (r.exit_code != 0 || certs.size() != 1) return {};
    EXPECT_THAT(names_of(certs.begin()->second), ::testing::UnorderedElementsAreArray(names));
    return r.out + r.err;
  }

  BindEnv bind_;
  PebbleEnv pebble_;
};

TEST_F(Rfc2136, SeveralNamesAndAWildcardAreIssuedAndNothingIsLeftInTheZone) {
  EngineSandbox box(pebble_);
  const std::vector<std::string> names{"acme.test", "a.acme.test", "b.acme.test", "c.acme.test", "*.x.acme.test"};
  write_policy(box, names, bind_.at("KEY_FILE"));
  const std::string log = issue_one(box, names);
  if (log.empty()) return;
  // One update for the order's five records; both name servers were asked before answering.
  EXPECT_THAT(log, HasSubstr("added 5 TXT record(s) to the zone acme.test at 127.0.0.1:53 in one update"));
  EXPECT_THAT(log, HasSubstr("every name server of acme.test serves the 5 record(s) after"));
  EXPECT_THAT(log, HasSubstr("removed 5 TXT record(s) from the zone acme.test"));
  std::smatch m;
  for (const auto* what : {"in one update \\((\\d+) ms\\)", "serves the 5 record\\(s\\) after (\\d+) ms"})
    if (std::regex_search(log, m, std::regex(what))) std::cout << "[timing] " << m.str(0) << "\n";
  EXPECT_THAT(txt_records("acme.test", "127.0.0.1"), ::testing::IsEmpty());
  // The secondary hears of the removal by NOTIFY: wait for that, bounded.
  EXPECT_TRUE(eventually_no_txt("acme.test", "127.0.0.2")) << "the secondary still serves TXT records after 10 s";
  // The secondary got the records by NOTIFY and a transfer (not by being the primary).
  EXPECT_THAT(read_file(bind_.at("SECONDARY_LOG")), HasSubstr("transfer of 'acme.test/IN' from 127.0.0.1#53"));
}

// A challenge per name: one certificate whose public name is validated by http-01 (certagent's
// own responder, which pebble reaches through BIND's A record) and whose internal name and
// wildcard by dns-01 through RFC 2136 — one order, both kinds of challenge.
TEST_F(Rfc2136, OneCertificateMixesHttp01AndDns01Names) {
  EngineSandbox box(pebble_);
  const std::vector<std::string> names{"www.acme.test", "internal.acme.test", "*.acme.test"};
  json::object rfc{{"server", bind_.at("PRIMARY")}, {"key_file", bind_.at("KEY_FILE")}};
  json::object policy{
      {"ca", json::object{{"directory", pebble_.directory_url}, {"trust_bundle", pebble_.tls_root}}},
      {"challenge", json::array{json::object{{"type", "http-01"},
                                             {"listen", fmt::format("127.0.0.1:{}", pebble_.http01_port)}},
                                json::object{{"type", "dns-01"}, {"rfc2136", rfc},
                                             {"names", json::array{"internal.acme.test", "*.acme.test"}}}}},
      {"roles", json::array{json::object{{"role", "custom"}, {"id", "web"},
                                         {"names", json::object{{"https", json::array(names.begin(), names.end())}}}}}}};
  box.replace_policy(json::serialize(policy) + "\n");
  auto plan = box.certagent({"plan", "-v"});
  ASSERT_EQ(plan.exit_code, 0) << describe(plan);
  EXPECT_THAT(plan.out, ::testing::ContainsRegex("www\\.acme\\.test +http-01 \\(challenge\\[0\\]\\)"));
  EXPECT_THAT(plan.out, ::testing::ContainsRegex("internal\\.acme\\.test +dns-01 \\(challenge\\[1\\]\\)"));
  EXPECT_THAT(plan.out, ::testing::ContainsRegex("\\*\\.acme\\.test +dns-01 \\(challenge\\[1\\]\\)"));

  const std::string log = issue_one(box, names);
  if (log.empty()) return;
  // The two dns-01 names' records (_acme-challenge.internal and, for the wildcard,
  // _acme-challenge.acme.test) in one update; www.acme.test's challenge not in DNS at all.
  EXPECT_THAT(log, HasSubstr("added 2 TXT record(s) to the zone acme.test at 127.0.0.1:53 in one update"));
  EXPECT_THAT(log, HasSubstr("removed 2 TXT record(s) from the zone acme.test"));
  EXPECT_THAT(txt_records("acme.test", "127.0.0.1"), ::testing::IsEmpty());
  // pebble validated www.acme.test by http-01 (its log says which challenge it validated).
  const std::string pebble_log = read_file(bind_.at("PEBBLE_DIR") + "/default.log");
  EXPECT_THAT(pebble_log, HasSubstr(fmt::format("Attempting to validate w/ HTTP: http://www.acme.test:{}/",
                                                pebble_.http01_port)));
  EXPECT_THAT(pebble_log, Not(HasSubstr("w/ HTTP: http://internal.acme.test")));
}

TEST_F(Rfc2136, TwentyNamesAndAWildcardGoInOneUpdateAndCertagentWaitsForTheLaggingSecondary) {
  EngineSandbox box(pebble_);
  std::vector<std::string> names;
  for (int i = 1; i <= 20; ++i) names.push_back("n" + std::to_string(i) + ".acme.test");
  names.push_back("*.x.acme.test");
  write_policy(box, names, bind_.at("KEY_FILE"));
  auto r = box.certagent({"-v", "run", "--once"});
  show(r);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(names_of(box.certs().begin()->second), ::testing::UnorderedElementsAreArray(names));
  const std::string log = r.out + r.err;
  EXPECT_THAT(log, HasSubstr("added 21 TXT record(s) to the zone acme.test at 127.0.0.1:53 in one update"));
  // The secondary gets the update by NOTIFY and a transfer, after the primary: certagent saw it
  // lag, asked again, and only then let the CA validate.
  EXPECT_THAT(log, HasSubstr("round 1: ns2.acme.test (127.0.0.2:53) does not serve the TXT value"));
  EXPECT_THAT(log, Not(HasSubstr("round 1: ns1.acme.test")));
  EXPECT_THAT(log, HasSubstr("every name server of acme.test serves the 21 record(s) after"));
  std::smatch m;
  for (const auto* what : {"in one update \\((\\d+) ms\\)", "serves the 21 record\\(s\\) after (\\d+) ms"})
    if (std::regex_search(log, m, std::regex(what))) std::cout << "[timing] " << m.str(0) << "\n";
  EXPECT_THAT(txt_records("acme.test", "127.0.0.1"), ::testing::IsEmpty());
  EXPECT_TRUE(eventually_no_txt("acme.test", "127.0.0.2")) << "the secondary still serves TXT records after 10 s";
}

TEST_F(Rfc2136, AWrongKeyIsRefusedWithTheServersRcodeAndTheKeyNameAndLeavesNothing) {
  EngineSandbox box(pebble_);
  write_policy(box, {"wrong.acme.test"}, bind_.at("WRONG_KEY_FILE"));
  auto r = box.certagent({"run", "--once"});
  show(r);
  ASSERT_NE(r.exit_code, 0) << describe(r);
  const std::string out = r.out + r.err;
  EXPECT_THAT(out, HasSubstr("with the TSIG key acme-update"));
  EXPECT_THAT(out, HasSubstr("the server answered NOTAUTH with BADSIG"));
  // Neither secret appears anywhere.
  for (const auto* file : {"KEY_FILE", "WRONG_KEY_FILE"}) {
    std::smatch m;
    const std::string text = read_file(bind_.at(file));
    ASSERT_TRUE(std::regex_search(text, m, std::regex("secret \"([^\"]+)\"")));
    EXPECT_THAT(out, Not(HasSubstr(m[1].str())));
  }
  EXPECT_THAT(txt_records("acme.test", "127.0.0.1"), ::testing::IsEmpty());
  const std::string named_log = read_file(bind_.at("PRIMARY_LOG"));
  std::istringstream in(named_log);
  for (std::string line; std::getline(in, line);)
    if (line.find("acme-update") != std::string::npos && line.find("signature") != std::string::npos)
      std::cout << "[named] " << line << "\n";
  EXPECT_THAT(named_log, HasSubstr("acme-update"));
}

TEST_F(Rfc2136, ASecondaryThatNeverGetsTheRecordsIsNamedAfterTheBoundedWaitAndTheRecordsAreRemoved) {
  EngineSandbox box(pebble_);
  write_policy(box, {"a.lag.test"}, bind_.at("KEY_FILE"),
               json::object{{"propagation_timeout", "3s"}, {"propagation_interval", "1s"}});
  const auto start = std::chrono::steady_clock::now();
  auto r = box.certagent({"run", "--once"});
  const auto took = std::chrono::steady_clock::now() - start;
  show(r);
  ASSERT_NE(r.exit_code, 0) << describe(r);
  const std::string out = r.out + r.err;
  EXPECT_THAT(out, HasSubstr("did not reach every name server within 3 s"));
  EXPECT_THAT(out, HasSubstr("ns2.lag.test (127.0.0.2:53) does not serve the TXT value"));
  EXPECT_THAT(out, Not(HasSubstr("ns1.lag.test (127.0.0.1:53) does not serve")));
  EXPECT_LT(took, std::chrono::seconds(30));
  EXPECT_THAT(txt_records("lag.test", "127.0.0.1"), ::testing::IsEmpty());
}

TEST_F(Rfc2136, ACnameDelegatedChallengeNameIsUpdatedInTheTargetZone) {
  EngineSandbox box(pebble_);
  write_policy(box, {"d.acme.test", "a.acme.test"}, bind_.at("KEY_FILE"));
  auto r = box.certagent({"run", "--once"});
  show(r);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string log = r.out + r.err;
  EXPECT_THAT(log, HasSubstr("_acme-challenge.d.acme.test is a CNAME; updating d.delegated.test instead"));
  EXPECT_THAT(log, HasSubstr("added 1 TXT record(s) to the zone delegated.test"));
  EXPECT_THAT(log, HasSubstr("added 1 TXT record(s) to the zone acme.test"));
  EXPECT_THAT(log, HasSubstr("removed 1 TXT record(s) from the zone delegated.test"));
  EXPECT_THAT(txt_records("delegated.test", "127.0.0.1"), ::testing::IsEmpty());
  EXPECT_THAT(txt_records("acme.test", "127.0.0.1"), ::testing::IsEmpty());
}

TEST_F(Rfc2136, RecordsAKilledAgentAddedAreRemovedByTheNextPass) {
  EngineSandbox box(pebble_);
  // ns2.lag.test never gets the record: certagent waits (up to 60 s) with the record added.
  write_policy(box, {"b.lag.test"}, bind_.at("KEY_FILE"),
               json::object{{"propagation_timeout", "60s"}, {"propagation_interval", "1s"}});
  // Once the primary serves the record, SIGKILL the agent (no clean-up of its own can run).
  const std::string script = fmt::format(
      "'{}' --policy '{}' --state-dir '{}' run --once >'{}/killed.log' 2>&1 & pid=$!\n"
      "for i in $(seq 1 300); do\n"
      "  [ -n \"$(dig +short @127.0.0.1 _acme-challenge.b.lag.test TXT)\" ] && break\n"
      "  kill -0 $pid 2>/dev/null || break\n"
      "  sleep 0.1\n"
      "done\n"
      "kill -KILL $pid; wait $pid; echo \"status $?\"\n",
      CERTAGENT_BINARY, box.policy_file().string(), box.state().string(), box.dir().string());
  ProcessSpec spec;
  spec.argv = {"/bin/bash", "-c", script};
  spec.inherit_path = true;
  spec.timeout = std::chrono::seconds(90);
  auto killed = run_process(spec);
  ASSERT_TRUE(killed && killed->succeeded());
  EXPECT_THAT(killed->out, HasSubstr("status 137")) << read_file(box.dir().string() + "/killed.log");
  ASSERT_THAT(txt_records("lag.test", "127.0.0.1"), ::testing::SizeIs(1)) << "the record the killed agent added";
  EXPECT_TRUE(std::filesystem::exists(box.state() / "dns01-records"));

  // The next pass deletes it first (and then fails on the lagging secondary again, cleaning up).
  write_policy(box, {"b.lag.test"}, bind_.at("KEY_FILE"),
               json::object{{"propagation_timeout", "2s"}, {"propagation_interval", "1s"}});
  auto next = box.certagent({"run", "--once", "--now"});
  show(next);
  EXPECT_THAT(next.out + next.err, HasSubstr("removed 1 TXT record(s) an earlier run left in the zone lag.test"));
  EXPECT_THAT(txt_records("lag.test", "127.0.0.1"), ::testing::IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(box.state() / "dns01-records"));
}

}  // namespace
}  // namespace certagent::integration
