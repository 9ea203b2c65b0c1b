// Consumer reloads refused for lack of privilege say so, and how to grant it
// (agent/engine/privilege.hpp): hooks whose output says "Access denied" & co.,
// and systemd units when the system bus cannot be reached (the D-Bus refusal
// itself is exercised end to end by integration.consumer_reload).
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "agent/engine/hooks.hpp"
#include "agent/engine/privilege.hpp"
#include "agent/engine/rebind.hpp"
#include "agent/engine/units.hpp"
#include "agent/store/fsutil.hpp"
#include "agent_fixtures.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A stand-in for a program that prints `stderr_text` and exits 1, named `name` (argv[0]'s basename).
fs::path refusing_program(const fs::path& dir, const std::string& name, const std::string& stderr_text) {
  fs::path p = dir / name;
  EXPECT_TRUE(fsutil::write_file_atomic(p, "#!/bin/sh\necho '" + stderr_text + "' >&2\nexit 1\n", 0700));
  return p;
}

HookEvent event() { return HookEvent{"Default", HookAction::Bind, "v1", "", "NEW", "/s/live/Default", {"a.example"}, {}}; }

// Sets an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) old = v;
    setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { old ? setenv(name.c_str(), old->c_str(), 1) : unsetenv(name.c_str()); }
};

TEST(Privilege, RefusalPhrasesAreFoundWhateverTheirCase) {
  EXPECT_EQ(privilege_refusal("Failed to reload nginx.service: Interactive authentication required."),
            "Interactive authentication required");
  EXPECT_EQ(privilege_refusal("Failed to reload nginx.service: Access denied"), "Access denied");
  EXPECT_EQ(privilege_refusal("nginx: [alert] kill(812, 1) failed (1: OPERATION NOT PERMITTED)"),
            "Operation not permitted");
  EXPECT_EQ(privilege_refusal("open() \"/run/nginx.pid\" failed (13: Permission denied)"), "Permission denied");
  EXPECT_EQ(privilege_refusal("Job for nginx.service failed because the control process exited"), std::nullopt);
  EXPECT_EQ(privilege_refusal(""), std::nullopt);
}

TEST(Privilege, TheUnitASystemctlHookReloadsIsNamedWithItsSuffix) {
  EXPECT_EQ(systemctl_unit({"/usr/bin/systemctl", "reload", "nginx"}), "nginx.service");
  EXPECT_EQ(systemctl_unit({"/bin/systemctl", "--no-block", "restart", "haproxy.service"}), "haproxy.service");
  EXPECT_EQ(systemctl_unit({"/usr/bin/systemctl", "reload-or-restart", "web@blue.service"}), "web@blue.service");
  EXPECT_EQ(systemctl_unit({"/usr/bin/systemctl", "status", "nginx"}), std::nullopt);
  EXPECT_EQ(systemctl_unit({"/usr/bin/systemctl", "reload"}), std::nullopt);
  EXPECT_EQ(systemctl_unit({"/usr/sbin/kamcmd", "tls.reload"}), std::nullopt);
}

TEST(Privilege, ARefusedSystemctlHookSaysSoAndNamesTheUnitAndThePolkitRule) {
  certagent::testing::TempDir t;
  auto systemctl = refusing_program(t.path(), "systemctl",
                                    "Failed to reload nginx.service: Interactive authentication required.");
  auto r = run_hooks({Hook{{systemctl.string(), "reload", "nginx"}, 10s}}, event());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Hook);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("exited with status 1, refused for lack of privilege (its output says \"Interactive "
                   "authentication required\")"), std::string::npos) << m;
  EXPECT_NE(m.find("\"reload_units\": [\"nginx.service\"]"), std::string::npos) << m;
  EXPECT_NE(m.find("add \"nginx.service\" to its list of units (verb reload), for user " + effective_user()),
            std::string::npos) << m;
  EXPECT_NE(m.find("/etc/polkit-1/rules.d/50-certagent.rules"), std::string::npos) << m;
}

TEST(Privilege, ARefusedNginxSignalPointsAtReloadUnits) {
  certagent::testing::TempDir t;
  auto nginx = refusing_program(t.path(), "nginx", "nginx: [alert] kill(812, 1) failed (1: Operation not permitted)");
  auto r = run_hooks({Hook{{nginx.string(), "-s", "reload"}, 10s}}, event());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot signal an nginx master that runs as root"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("\"reload_units\": [\"nginx.service\"]"), std::string::npos) << r.error().message;
}

TEST(Privilege, AnotherRefusedHookIsToldWhatTheServiceUserMayNotDo) {
  certagent::testing::TempDir t;
  auto copy = refusing_program(t.path(), "copy-to-app", "cp: cannot create regular file '/opt/app/tls.pem': Permission denied");
  auto r = run_hooks({Hook{{copy.string()}, 10s}}, event());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("refused for lack of privilege"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("hooks run as user " + effective_user() + " without new privileges"),
            std::string::npos) << r.error().message;
}

TEST(Privilege, AHookFailingForAnotherReasonIsNotCalledAPrivilegeProblem) {
  certagent::testing::TempDir t;
  auto broken = refusing_program(t.path(), "systemctl", "Job for nginx.service failed because the control process "
                                                        "exited with error code.");
  auto r = run_hooks({Hook{{broken.string(), "reload", "nginx"}, 10s}}, event());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("privilege"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("polkit"), std::string::npos) << r.error().message;
}

TEST(Units, NoSystemBusIsAFailureThatSaysWhichBus) {
  certagent::testing::TempDir t;
  ScopedEnv bus("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + (t.path() / "no-bus").string());
  auto r = run_unit_actions({UnitAction{"nginx.service", UnitVerb::Reload, 5s}}, "bind of Default");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Hook);
  EXPECT_NE(r.error().message.find("bind of Default"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("system bus"), std::string::npos) << r.error().message;
}

TEST(Units, NoUnitsNeedNoBus) {
  ScopedEnv bus("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus");
  EXPECT_TRUE(run_unit_actions({}, "bind of Default"));
}

TEST(Units, AUnitThatCannotBeReloadedRollsThePurposeBackLikeAFailedHook) {
  testing::StoreFixture f;
  const std::string a = f.add({"a.example"});
  const std::string b = f.add({"a.example"});
  const std::string purposes[] = {"Default"};
  ASSERT_TRUE(rebind(f.s, purposes, a, {}));
  ScopedEnv bus("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + (f.t.path() / "no-bus").string());
  std::map<std::string, PurposeConsumers> consumers{
      {"Default", PurposeConsumers{{}, {}, {UnitAction{"nginx.service", UnitVerb::Reload, 5s}}}}};
  auto out = rebind(f.s, purposes, b, consumers);
  ASSERT_TRUE(out);
  const auto& o = (*out)[0];
  ASSERT_TRUE(o.failure);
  EXPECT_NE(o.failure->message.find("units of bind of Default"), std::string::npos) << o.failure->message;
  EXPECT_TRUE(o.rolled_back);
  EXPECT_EQ((*f.s.binding("Default"))->version_id, a);
  ASSERT_TRUE(o.rollback_failure) << "the rollback's reload cannot reach the bus either";
  EXPECT_NE(o.rollback_failure->message.find("units of rollback of Default"), std::string::npos)
      << o.rollback_failure->message;
}

}  // namespace
}  // namespace certagent::agent
