// The shipped deploy hook (docs/examples/hooks/deploy-to-lync) run by certagent itself after a
// real issuance from pebble, with fake `ssh` and `scp` first on PATH that record their
// arguments, environment and standard input, and keep what was copied: what would run on the
// Lync server is checked, and the PKCS#12 password appears in no argument and no environment.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine_support.hpp"
#include "support/files.hpp"

namespace certagent::integration {
namespace {

using certagent::testing::read_text;

namespace fs = std::filesystem;

const fs::path kHook = fs::path(CERTAGENT_SOURCE_DIR) / "docs" / "examples" / "hooks" / "deploy-to-lync";
const std::string kPassword = "s3cret-Pa55-for-the-pfx";
const std::string kHost = "admin@lyncse01.contoso.net";

std::string describe(const ProcessOutcome& r) {
  return fmt::format("exit {} signal {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.signal, r.out, r.err);
}

void write_executable(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  fs::permissions(p, fs::perms::owner_all);
}

// ssh: each call appends "--- ssh", its argv (one "arg=" line each) and its environment to
// calls.log; its standard input goes to ssh.stdin. scp: the same, and it copies its source
// (the argument before the last) into remote/ under the destination's file name.
struct FakeRemote {
  fs::path dir;
  explicit FakeRemote(const fs::path& d) : dir(d) {
    fs::create_directories(dir / "bin");
    fs::create_directories(dir / "remote");
    const std::string record = fmt::format(
        "log='{0}/calls.log'\n"
        "{{ echo \"--- $(basename \"$0\")\"; for a in \"$@\"; do printf 'arg=%s\\n' \"$a\"; done; env | sed 's/^/env=/'; }} >>\"$log\"\n",
        dir.string());
    write_executable(dir / "bin" / "ssh", "#!/bin/sh\n" + record + fmt::format("cat >>'{}/ssh.stdin'\nexit 0\n", dir.string()));
    write_executable(dir / "bin" / "scp",
                     "#!/bin/sh\n" + record +
                         fmt::format("for a in \"$@\"; do src=$dst; dst=$a; done\n"
                                     "name=${{dst##*:}}; name=${{name##*/}}; [ -n \"$name\" ] || name=$(basename \"$src\")\n"
                                     "cp -- \"$src\" '{}/remote/'\"$name\"\n",
                                     dir.string()));
    fs::create_symlink(CERTAGENT_BINARY, dir / "bin" / "certagent");
  }
  [[nodiscard]] std::string calls() const { return read_text(dir / "calls.log"); }
  [[nodiscard]] std::string path_env() const {
    const char* path = std::getenv("PATH");
    return "PATH=" + (dir / "bin").string() + ":" + (path ? path : "/usr/bin:/bin");
  }
};

std::string sha1_of_pkcs12(const fs::path& p12, const fs::path& password_file) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c",
               "openssl pkcs12 -in \"$1\" -passin \"file:$2\" -nokeys -clcerts | openssl x509 -noout -fingerprint -sha1",
               "sh", p12.string(), password_file.string()};
  spec.inherit_path = true;
  auto r = run_process(spec);
  if (!r || !r->succeeded()) return "(openssl failed: " + (r ? r->err : r.error().message) + ")";
  std::string hex;
  for (char c : r->out.substr(r->out.find('=') + 1))
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
  return hex;
}

TEST(LyncDeploy, TheHookCopiesThePkcs12AndTheScriptAndRunsItOverSshWithThePasswordOnStdinOnly) {
  EngineSandbox box;
  FakeRemote remote(box.dir() / "fake");
  const fs::path password = box.dir() / "p12-password";
  std::ofstream(password) << kPassword << "\n";
  fs::permissions(password, fs::perms::owner_read | fs::perms::owner_write);
  fs::create_directories(box.dir() / "lync");
  PoolPolicy policy = pool("shared");
  policy.outputs["Default"] = {{"pkcs12", (box.dir() / "lync" / "default.p12").string()},
                               {"pkcs12_password_file", password.string()}};
  policy.hooks["Default"] = {kHook.string(), kHost, "C:/certagent", password.string(),
                             "--policy", box.policy_file().string(), "--state-dir", box.state().string()};
  box.write_policy(policy);

  auto r = box.certagent({"run", "--once"}, {remote.path_env()});
  ASSERT_EQ(r.exit_code, 0) << describe(r) << remote.calls();
  const std::string thumb = thumbprint_of(box.certs().at("Default"));
  EXPECT_NE(r.err.find(fmt::format("deploy-to-lync: bind of Default ({}) bound on {}", thumb, kHost)), std::string::npos)
      << describe(r);

  // What scp copied: the PKCS#12 bundle as certagent wrote it, and the script `certs` prints.
  const std::string calls = remote.calls();
  EXPECT_NE(calls.find("--- scp\narg=-q\narg=-B\narg=--\narg=" + (box.dir() / "lync" / "default.p12").string() +
                       "\narg=" + kHost + ":C:/certagent/\n"),
            std::string::npos)
      << calls;
  EXPECT_EQ(read_text(remote.dir / "remote" / "default.p12"), read_text(box.dir() / "lync" / "default.p12"));
  EXPECT_EQ(sha1_of_pkcs12(remote.dir / "remote" / "default.p12", password), thumb)
      << "the bundle copied holds the certificate the script binds";
  auto printed = box.certagent({"certs", "--format", "powershell"});
  ASSERT_EQ(printed.exit_code, 0) << describe(printed);
  const std::string script = read_text(remote.dir / "remote" / "bind-lync.ps1");
  EXPECT_EQ(script, printed.out);
  EXPECT_NE(script.find("Import-CertagentPfx 'default.p12' '" + thumb + "'\n"), std::string::npos) << script;
  EXPECT_NE(script.find("\nSet-CsCertificate -Type Default,WebServicesInternal,WebServicesExternal -Thumbprint " + thumb +
                        "\n"),
            std::string::npos)
      << script;

  // What ssh ran on the server, and what it read on its standard input.
  EXPECT_NE(calls.find("--- ssh\narg=-o\narg=BatchMode=yes\narg=--\narg=" + kHost +
                       "\narg=powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "
                       "C:/certagent/bind-lync.ps1 -PfxDirectory C:/certagent -PasswordFile -\n"),
            std::string::npos)
      << calls;
  EXPECT_EQ(read_text(remote.dir / "ssh.stdin"), kPassword + "\n");
  EXPECT_EQ(calls.find(kPassword), std::string::npos) << "the password is in no argument and no environment";
  EXPECT_EQ(script.find(kPassword), std::string::npos);
  EXPECT_EQ(r.err.find(kPassword), std::string::npos) << "nor in certagent's log";
}

// A server that refuses (ssh fails): the hook fails, certagent says what the server said and
// leaves the purposes bound (they had nothing before: nothing to go back to).
TEST(LyncDeploy, AFailureOnTheServerIsTheHooksFailureWithWhatTheServerSaid) {
  EngineSandbox box;
  FakeRemote remote(box.dir() / "fake");
  write_executable(remote.dir / "bin" / "ssh",
                   "#!/bin/sh\ncat >/dev/null\necho 'Set-CsCertificate : Access is denied.' >&2\nexit 1\n");
  PoolPolicy policy = pool("shared");
  policy.outputs["Default"] = {{"pkcs12", (box.dir() / "default.p12").string()}};
  policy.hooks["Default"] = {kHook.string(), kHost, "C:/certagent", "-", "--policy", box.policy_file().string(),
                             "--state-dir", box.state().string()};
  auto text = box.policy_text(policy);
  text.replace(text.find("\"pkcs12\":"), 0, "\"pkcs12_empty_password\":true,");
  box.replace_policy(text);
  auto r = box.certagent({"run", "--once"}, {remote.path_env()});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("exited with status 1; it said: Set-CsCertificate : Access is denied."), std::string::npos)
      << describe(r);
  EXPECT_EQ(read_text(remote.dir / "remote" / "bind-lync.ps1").find("Read-Host"), std::string::npos)
      << "an empty password is not asked for";
}

TEST(LyncDeploy, CertsFormatPowershellRefusesWhatWouldMakeAnIncompleteScript) {
  EngineSandbox box;
  box.write_policy(pool("separate"));
  auto both = box.certagent({"certs", "--json", "--format", "powershell"});
  EXPECT_EQ(both.exit_code, 2) << describe(both);
  EXPECT_NE(both.err.find("--json and --format powershell contradict each other"), std::string::npos) << both.err;
  auto bad = box.certagent({"certs", "--format", "ps1"});
  EXPECT_EQ(bad.exit_code, 2) << describe(bad);
  auto unbound = box.certagent({"certs", "--format", "powershell"});
  EXPECT_EQ(unbound.exit_code, 1) << describe(unbound);
  EXPECT_EQ(unbound.out, "") << "no partial script";
  EXPECT_NE(unbound.err.find("Default has no certificate bound"), std::string::npos) << unbound.err;
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  auto no_pkcs12 = box.certagent({"certs", "--format", "powershell"});
  EXPECT_EQ(no_pkcs12.exit_code, 1) << describe(no_pkcs12);
  EXPECT_NE(no_pkcs12.err.find("the policy writes no PKCS#12 file for it; add \"pkcs12\""), std::string::npos)
      << no_pkcs12.err;
  fs::remove(box.policy_file());
  auto no_policy = box.certagent({"certs", "--format", "powershell"});
  EXPECT_EQ(no_policy.exit_code, 1) << describe(no_policy);
  EXPECT_NE(no_policy.err.find("the policy is needed"), std::string::npos) << no_policy.err;
  auto text = box.certagent({"certs", "--format", "json"});
  EXPECT_EQ(text.exit_code, 0) << describe(text);
  EXPECT_EQ(text.out, box.certagent({"certs", "--json"}).out) << "--json is --format json";
}

}  // namespace
}  // namespace certagent::integration
