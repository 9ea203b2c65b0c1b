// systemd/: the unit passes `systemd-analyze verify` and keeps its hardening, the sysusers.d and
// tmpfiles.d entries create the user and a 0700 state directory, and `cmake --install` puts
// everything where systemd looks. Needs systemd-analyze, systemd-sysusers, systemd-tmpfiles
// (scripts/bootstrap installs the `systemd` package; no running systemd is needed).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include "support/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path source_dir = CERTAGENT_SOURCE_DIR;
const fs::path unit_file = source_dir / "systemd/certagent.service";

using certagent::testing::run_shell;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

using certagent::testing::TempDir;

// A copy of the unit whose ExecStart names the binary just built (verify checks it exists).
fs::path unit_with_built_binary(const TempDir& dir, const std::string& unit_text) {
  const fs::path copy = dir.path() / "certagent.service";
  write(copy, replace_all(unit_text, "/usr/bin/certagent", CERTAGENT_BINARY));
  return copy;
}

TEST(SystemdUnit, VerifyIsCleanWithTheBuiltBinary) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  // --man=no: the Documentation= man pages exist once installed (tests/package/install-test
  // verifies the installed unit with them), not in a build tree.
  const auto r = run_shell("systemd-analyze verify --man=no " +
                           unit_with_built_binary(dir, read(unit_file)).string());
  EXPECT_EQ(r.code, 0) << r.out;
  // verify exits 0 on unknown keys and unparsable values (it only warns), so any output fails.
  EXPECT_EQ(r.out, "") << r.out;
}

TEST(SystemdUnit, VerifyWouldCatchATypoOrABadValue) {
  TempDir dir;
  std::string text = replace_all(read(unit_file), "ProtectClock=yes", "ProtectClok=yes");
  text = replace_all(text, "Type=notify", "Type=notfy");
  const auto r = run_shell("systemd-analyze verify " + unit_with_built_binary(dir, text).string());
  EXPECT_NE(r.out.find("Unknown key 'ProtectClok'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Failed to parse service type"), std::string::npos) << r.out;
}

TEST(SystemdUnit, CarriesTheContractAndTheHardening) {
  const std::string text = read(unit_file);
  for (const char* line :
       {"Type=notify", "ExecStart=/usr/bin/certagent run", "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=",
        "Restart=on-failure", "User=certagent", "StateDirectory=certagent", "StateDirectoryMode=0700",
        "ConfigurationDirectory=certagent", "UMask=0077", "ProtectSystem=strict", "ReadWritePaths=/var/lib/certagent",
        "NoNewPrivileges=yes", "PrivateTmp=yes", "PrivateDevices=yes", "ProtectHome=yes", "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes", "ProtectClock=yes",
        "ProtectHostname=yes", "RestrictNamespaces=yes", "RestrictRealtime=yes", "RestrictSUIDSGID=yes",
        "LockPersonality=yes", "MemoryDenyWriteExecute=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "SystemCallFilter=@system-service", "SystemCallArchitectures=native"}) {
    const std::regex at_line_start("(^|\\n)" + std::regex_replace(std::string(line), std::regex(R"([$^.*+?()\[\]{}|\\])"), R"(\$&)"));
    EXPECT_TRUE(std::regex_search(text, at_line_start)) << "missing: " << line;
  }
}

TEST(SystemdUnit, SecurityExposureStaysAtOrBelowTwo) {
  // --threshold is the exposure times ten; the command exits non-zero above it.
  const auto r = run_shell("systemd-analyze security --offline=yes --threshold=20 " + unit_file.string());
  EXPECT_EQ(r.code, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(Overall exposure level for certagent\.service: (\d+\.\d))")))
      << r.out;
  EXPECT_LE(std::stod(m[1].str()), 2.0) << r.out;
}

TEST(SystemdUnit, SysusersAndTmpfilesMakeThePrivateStateDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "systemd-tmpfiles can only chown to the new user as root";
  TempDir root;
  fs::create_directories(root.path() / "etc");
  const auto users = run_shell("systemd-sysusers --root=" + root.path().string() + " " +
                         (source_dir / "systemd/certagent.sysusers").string());
  ASSERT_EQ(users.code, 0) << users.out;
  const std::string passwd = read(root.path() / "etc/passwd");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(passwd, m, std::regex(R"(certagent:x:(\d+):(\d+):[^:]*:/var/lib/certagent:)"))) << passwd;
  const auto dirs = run_shell("systemd-tmpfiles --create --root=" + root.path().string() + " " +
                        (source_dir / "systemd/certagent.tmpfiles").string());
  ASSERT_EQ(dirs.code, 0) << dirs.out;
  struct stat st {};
  ASSERT_EQ(::stat((root.path() / "var/lib/certagent").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, static_cast<uid_t>(std::stoul(m[1].str())));
  EXPECT_EQ(st.st_gid, static_cast<gid_t>(std::stoul(m[2].str())));
}

TEST(SystemdUnit, CmakeInstallPutsUnitsWhereSystemdLooks) {
  TempDir prefix;
  const fs::path build_dir = fs::path(CERTAGENT_BINARY).parent_path();
  const auto r = run_shell("cmake --install " + build_dir.string() + " --prefix " + prefix.path().string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* file : {"bin/certagent", "lib/systemd/system/certagent.service", "lib/tmpfiles.d/certagent.conf",
                           "lib/sysusers.d/certagent.conf", "share/doc/certagent/renewal.md",
                           "etc/certagent/policy.json.example", "share/bash-completion/completions/certagent",
                           "share/man/man8/certagent.8", "share/man/man5/certagent-policy.5"})
    EXPECT_TRUE(fs::exists(prefix.path() / file)) << file << " not installed:\n" << r.out;
  // Nothing outside the prefix (an absolute DESTINATION would write to this machine's /).
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("-- Installing: ") || line.starts_with("-- Up-to-date: ")) {
      EXPECT_TRUE(line.substr(15).starts_with(prefix.path().string())) << "installed outside the prefix: " << line;
    }
  }
  EXPECT_EQ(read(prefix.path() / "lib/systemd/system/certagent.service"), read(unit_file));
}

}  // namespace
