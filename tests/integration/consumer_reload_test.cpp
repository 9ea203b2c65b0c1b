// Consumers reloaded through systemd's D-Bus API (issue 23), end to end as far as a machine
// without systemd as PID 1 allows: certagent runs as nobody with no new privileges (what the
// shipped unit's User= and NoNewPrivileges= give it), orders from pebble, writes the
// certificate where a real nginx reads it, and asks "systemd" to reload nginx.service over
// the system bus. The bus is a private dbus-daemon and "systemd" a stand-in for its Manager
// (reload/fake_systemd_manager.cpp, started by reload-ctl): it answers ReloadUnit as systemd
// does and reloads the real nginx, and refuses other units with InteractiveAuthorizationRequired
// as systemd does when no polkit rule allows them. What the stand-in cannot show is systemd's and polkit's own behaviour;
// the polkit rule is checked on its own (systemd.polkit_rule).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/process.hpp"
#include "engine_support.hpp"
#include "support/files.hpp"

namespace certagent::integration {
namespace {

using certagent::testing::read_text;

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
namespace json = boost::json;

// RUNDIR/reload.env as reload-ctl wrote it.
std::map<std::string, std::string> reload_env() {
  const char* dir = std::getenv("CERTAGENT_RELOAD_DIR");
  if (!dir) throw std::runtime_error("CERTAGENT_RELOAD_DIR is unset: run `ctest -R integration.consumer_reload` "
                                     "(its fixture reload.start starts the bus, the stand-in and nginx)");
  std::ifstream in(fs::path(dir) / "reload.env");
  if (!in) throw std::runtime_error(std::string("no reload.env in ") + dir + ": reload.start did not run or failed");
  std::map<std::string, std::string> env;
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  return env;
}

ProcessOutcome run(std::vector<std::string> argv, std::chrono::seconds timeout = 60s) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.inherit_path = true;
  spec.timeout = timeout;
  auto r = run_process(spec);
  if (!r) throw std::runtime_error(r.error().message);
  return *r;
}

// The SHA-1 thumbprint (upper-case hex, as `certs` prints it) of what nginx serves now.
std::string served_thumbprint(const std::string& port) {
  auto r = run({"bash", "-c", "openssl s_client -connect 127.0.0.1:" + port +
                                  " </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha1"});
  std::string t = r.out.substr(std::min(r.out.size(), r.out.find('=') + 1));
  std::erase_if(t, [](char c) { return c == ':' || c == '\n'; });
  return t;
}

// certagent as nobody: no capabilities, no supplementary groups, no new privileges;
// under `wrapper` (e.g. strace) when given.
ProcessOutcome certagent_as_nobody(const EngineSandbox& box, const std::map<std::string, std::string>& env,
                                   const std::vector<std::string>& args, const std::vector<std::string>& wrapper = {}) {
  ProcessSpec spec;
  spec.argv = wrapper;
  spec.argv.insert(spec.argv.end(), {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--no-new-privs",
               "--inh-caps=-all", "--bounding-set=-all", CERTAGENT_BINARY, "--policy", box.policy_file().string(),
               "--state-dir", box.state().string()});
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {"DBUS_SYSTEM_BUS_ADDRESS=" + env.at("BUS_ADDRESS")};
  spec.inherit_path = true;
  spec.timeout = 180s;
  auto r = run_process(spec);
  if (!r) throw std::runtime_error(r.error().message);
  return *r;
}

// The sandbox's policy with Default's outputs in `dir`, `units` to reload and `restart` to
// restart; all of it nobody's.
void write_policy(const EngineSandbox& box, const fs::path& dir, const std::vector<std::string>& units,
                  const std::vector<std::string>& restart = {}, const PoolPolicy& pool_policy = pool("shared")) {
  json::object policy = json::parse(box.policy_text(pool_policy)).as_object();
  json::array reload(units.begin(), units.end());
  // pebble's root, where nobody may read it.
  fs::copy_file(box.pebble().tls_root, box.dir() / "pebble-root.pem", fs::copy_options::overwrite_existing);
  policy["ca"].as_object()["trust_bundle"] = (box.dir() / "pebble-root.pem").string();
  policy["purposes"] = json::object{{"Default", json::object{{"fullchain", (dir / "fullchain.pem").string()},
                                                             {"key", (dir / "privkey.pem").string()},
                                                             {"reload_units", reload},
                                                             {"restart_units", json::array(restart.begin(), restart.end())}}}};
  fs::remove(box.policy_file());
  std::ofstream(box.policy_file()) << json::serialize(policy) << "\n";
  auto chown = run({"chown", "-R", "nobody:nogroup", box.dir().string(), dir.string()});
  if (chown.exit_code != 0) throw std::runtime_error("chown: " + chown.err);
}

std::string describe(const ProcessOutcome& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// nginx's master swaps workers after a reload: waits, bounded, until it serves `want`.
std::string wait_until_served(const std::string& port, const std::string& want) {
  std::string served = served_thumbprint(port);
  for (auto until = std::chrono::steady_clock::now() + 20s; served != want && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(100ms))
    served = served_thumbprint(port);
  return served;
}

TEST(ConsumerReload, CertagentAsNobodyHasSystemdReloadNginxWhichThenServesTheNewCertificate) {
  const auto env = reload_env();
  EngineSandbox box;
  write_policy(box, env.at("TLS_DIR"), {env.at("ALLOWED_UNIT")});
  const std::string before = served_thumbprint(env.at("NGINX_PORT"));
  ASSERT_EQ(before.size(), 40u) << "nginx serves nothing on port " << env.at("NGINX_PORT");

  auto pass = certagent_as_nobody(box, env, {"run", "--once"});
  ASSERT_EQ(pass.exit_code, 0) << describe(pass);
  const std::string bound = thumbprint_of(box.certs().at("Default"));
  ASSERT_EQ(bound.size(), 40u);
  ASSERT_NE(bound, before);

  EXPECT_EQ(wait_until_served(env.at("NGINX_PORT"), bound), bound) << "nginx still serves the old certificate\n" << read_text(env.at("MANAGER_LOG"));
  EXPECT_THAT(read_text(env.at("MANAGER_LOG")), HasSubstr("ReloadUnit nginx.service uid=65534 -> "));
  EXPECT_THAT(pass.err, HasSubstr("reload nginx.service (bind of Default): done"));
}

// One certificate bound to three purposes that each name the same unit: the unit is reloaded
// once for the round (every purpose's files are written before it), not once per purpose.
TEST(ConsumerReload, AUnitEveryPurposeOfASharedCertificateNamesIsReloadedOncePerBind) {
  const auto env = reload_env();
  EngineSandbox box;
  const std::string unit = env.at("ALLOWED_UNIT");
  write_policy(box, env.at("TLS_DIR"), {unit});
  json::object policy = json::parse(read_text(box.policy_file())).as_object();
  for (const char* p : {"WebServicesInternal", "WebServicesExternal"})
    policy["purposes"].as_object()[p] = json::object{{"reload_units", json::array{json::string(unit)}}};
  fs::remove(box.policy_file());
  std::ofstream(box.policy_file()) << json::serialize(policy) << "\n";
  ASSERT_EQ(run({"chown", "nobody:nogroup", box.policy_file().string()}).exit_code, 0);
  const auto reloads = [&] {
    const std::string log = read_text(env.at("MANAGER_LOG"));
    std::size_t n = 0;
    for (auto at = log.find("ReloadUnit " + unit + " "); at != std::string::npos; at = log.find("ReloadUnit " + unit + " ", at + 1)) ++n;
    return n;
  };
  const std::size_t before = reloads();

  auto pass = certagent_as_nobody(box, env, {"run", "--once"});
  ASSERT_EQ(pass.exit_code, 0) << describe(pass);
  const auto certs = box.certs();
  const std::string bound = thumbprint_of(certs.at("Default"));
  for (const char* p : {"WebServicesInternal", "WebServicesExternal"}) EXPECT_EQ(thumbprint_of(certs.at(p)), bound) << p;
  EXPECT_EQ(reloads() - before, 1u) << describe(pass);
  EXPECT_THAT(pass.err, HasSubstr("reload " + unit + " (bind of Default, WebServicesInternal, WebServicesExternal): done"))
      << describe(pass);
  EXPECT_EQ(wait_until_served(env.at("NGINX_PORT"), bound), bound);
}

// A renewal whose consumer fails goes back, consumers included: the restart of a unit whose
// job ends "failed" (RestartUnit) rolls the purpose back to its previous certificate, its
// files are restored byte for byte and nginx is reloaded again with them.
TEST(ConsumerReload, AUnitWhoseJobFailsRollsTheNewCertificateBackAndNginxServesThePreviousOne) {
  const auto env = reload_env();
  EngineSandbox box;
  const fs::path tls = env.at("TLS_DIR");
  write_policy(box, tls, {env.at("ALLOWED_UNIT")});
  auto first = certagent_as_nobody(box, env, {"run", "--once"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  const std::string previous = thumbprint_of(box.certs().at("Default"));
  ASSERT_EQ(wait_until_served(env.at("NGINX_PORT"), previous), previous);
  const std::string previous_chain = read_text(tls / "fullchain.pem");
  const auto nginx_reloads = [&] {
    const std::string log = read_text(env.at("MANAGER_LOG"));
    std::size_t n = 0;
    for (auto at = log.find("ReloadUnit nginx.service uid=65534 -> "); at != std::string::npos;
         at = log.find("ReloadUnit nginx.service uid=65534 -> ", at + 1))
      ++n;
    return n;
  };
  const std::size_t reloads_before = nginx_reloads();

  // One more SIP domain: a reissue, whose consumers now include a unit that cannot restart.
  PoolPolicy wider = pool("shared");
  wider.sip_domains.push_back("northwind.com");
  write_policy(box, tls, {env.at("ALLOWED_UNIT")}, {env.at("FAILING_UNIT")}, wider);
  auto second = certagent_as_nobody(box, env, {"run", "--once"});
  EXPECT_NE(second.exit_code, 0) << describe(second);
  EXPECT_THAT(second.out + second.err, HasSubstr("systemd's job to restart " + env.at("FAILING_UNIT") + " ended \"failed\""));
  EXPECT_THAT(second.out + second.err, HasSubstr("rolled back to the previous certificate"));
  EXPECT_EQ(thumbprint_of(box.certs().at("Default")), previous);
  EXPECT_EQ(read_text(tls / "fullchain.pem"), previous_chain) << "the output is restored byte for byte";
  EXPECT_EQ(nginx_reloads(), reloads_before + 2) << "nginx reloaded with the new certificate, then with the previous one";
  EXPECT_EQ(wait_until_served(env.at("NGINX_PORT"), previous), previous);
  EXPECT_THAT(read_text(env.at("MANAGER_LOG")), HasSubstr("RestartUnit " + env.at("FAILING_UNIT") + " uid=65534 -> "));
}

TEST(ConsumerReload, ARefusedReloadSaysItIsAboutAuthorizationAndNamesThePolkitRuleAndTheUnit) {
  const auto env = reload_env();
  EngineSandbox box;
  const fs::path out = box.dir() / "out";
  fs::create_directories(out);
  write_policy(box, out, {"lync-web-proxy.service"});

  auto pass = certagent_as_nobody(box, env, {"run", "--once"});
  EXPECT_NE(pass.exit_code, 0) << describe(pass);
  const std::string all = pass.out + pass.err;
  EXPECT_THAT(all, HasSubstr("systemd refused to reload lync-web-proxy.service for lack of authorization "
                             "(org.freedesktop.DBus.Error.InteractiveAuthorizationRequired: Interactive authentication required.)"));
  EXPECT_THAT(all, HasSubstr("add \"lync-web-proxy.service\" to its list of units (verb reload), for user nobody"));
  EXPECT_THAT(read_text(env.at("MANAGER_LOG")), HasSubstr("ReloadUnit lync-web-proxy.service uid=65534 refused"));

  // `certagent status` keeps saying it until the next attempt succeeds.
  auto status = box.certagent({"status"});
  EXPECT_THAT(status.out, HasSubstr("systemd refused to reload lync-web-proxy.service for lack of authorization"))
      << describe(status);
  EXPECT_THAT(status.out, HasSubstr("/etc/polkit-1/rules.d/50-certagent.rules")) << describe(status);
}

}  // namespace
}  // namespace certagent::integration

namespace certagent::integration {
namespace {

// The system calls of a group as systemd-analyze lists them, nested groups expanded.
void expand_group(const std::string& group, std::set<std::string>& out, std::set<std::string>& done) {
  if (!done.insert(group).second) return;
  auto r = run({"systemd-analyze", "syscall-filter", group});
  if (r.exit_code != 0) throw std::runtime_error("systemd-analyze syscall-filter " + group + ": " + r.err);
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);  // the group's own name
  while (std::getline(lines, line)) {
    line.erase(0, line.find_first_not_of(' '));
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '@') expand_group(line, out, done);
    else out.insert(line);
  }
}

// What the shipped unit's SystemCallFilter= lines allow (allow-lists, then "~" deny-lists).
std::set<std::string> unit_syscall_filter() {
  std::ifstream unit(fs::path(CERTAGENT_SOURCE_DIR) / "systemd/certagent.service");
  std::set<std::string> allowed, denied, done_a, done_d;
  for (std::string line; std::getline(unit, line);) {
    if (!line.starts_with("SystemCallFilter=")) continue;
    std::string value = line.substr(line.find('=') + 1);
    const bool deny = value.starts_with("~");
    if (deny) value.erase(0, 1);
    std::istringstream words(value);
    for (std::string w; words >> w;) {
      if (w.front() == '@') expand_group(w, deny ? denied : allowed, deny ? done_d : done_a);
      else (deny ? denied : allowed).insert(w);
    }
  }
  for (const auto& d : denied) allowed.erase(d);
  return allowed;
}

// The unit's SystemCallFilter= with SystemCallErrorNumber=EPERM would make any other call fail
// as EPERM under systemd; here, without systemd, strace records what a pass that reloads a unit
// over the bus calls, and every call must be in the filter.
TEST(ConsumerReload, EverySystemCallAndSocketFamilyOfAPassThatReloadsOverTheBusIsInTheUnitsFilters) {
  const auto env = reload_env();
  EngineSandbox box;
  write_policy(box, env.at("TLS_DIR"), {env.at("ALLOWED_UNIT")});
  const fs::path trace = box.dir() / "strace.txt";
  auto pass = certagent_as_nobody(box, env, {"run", "--once"}, {"strace", "-f", "-qq", "-o", trace.string()});
  ASSERT_EQ(pass.exit_code, 0) << describe(pass);
  ASSERT_THAT(pass.err, HasSubstr("reload nginx.service (bind of Default): done"));

  // Only what certagent calls: from the execve of its binary on (setpriv's own calls come first).
  std::set<std::string> used, families;
  bool in_certagent = false;
  const std::regex call(R"(^\d+\s+([a-z0-9_]+)\()");
  const std::regex socket_family(R"(^\d+\s+socket(?:pair)?\((AF_[A-Z0-9]+))");
  std::ifstream in(trace);
  for (std::string line; std::getline(in, line);) {
    if (!in_certagent) {
      in_certagent = line.find("execve(\"" CERTAGENT_BINARY "\"") != std::string::npos && line.ends_with("= 0");
      continue;
    }
    std::smatch m;
    if (std::regex_search(line, m, call)) used.insert(m[1]);
    if (std::regex_search(line, m, socket_family)) families.insert(m[1]);
  }
  ASSERT_TRUE(in_certagent) << "no execve of " << CERTAGENT_BINARY << " in " << trace;
  EXPECT_TRUE(used.contains("connect") && used.contains("sendmsg") && used.contains("recvmsg"))
      << "the bus was not used";
  const auto allowed = unit_syscall_filter();
  ASSERT_GT(allowed.size(), 100u);
  std::vector<std::string> outside;
  for (const auto& u : used)
    if (!allowed.contains(u)) outside.push_back(u);
  EXPECT_TRUE(outside.empty()) << "system calls outside the unit's SystemCallFilter=: " << ::testing::PrintToString(outside);
  // And RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK.
  EXPECT_TRUE(families.contains("AF_UNIX")) << "the bus is a Unix socket";
  for (const auto& f : families)
    EXPECT_TRUE(f == "AF_UNIX" || f == "AF_INET" || f == "AF_INET6" || f == "AF_NETLINK") << f;
}

}  // namespace
}  // namespace certagent::integration
