// Per-purpose output files: every format with its content, mode and group;
// PKCS#12 that parses back; the commit order (never a new cert with an old
// key); and bad input that names the file and leaves the previous outputs
// untouched.
#include "agent/engine/outputs.hpp"

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "protocol/x509/pkcs12.hpp"
#include "store_support.hpp"
#include "support/cli_runner.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using testing::make_cert;
using testing::TempDir;

struct OutputsFixture {
  TempDir t;
  fs::path out = t.path() / "out";
  fs::path password = t.path() / "p12-password";
  Store s = std::move(*Store::open(t.path() / "state", {.write = true}));
  StoredVersion a = add({"a.example"});
  StoredVersion b = add({"b.example"});

  OutputsFixture() {
    fs::create_directory(out);
    fs::permissions(out, fs::perms(0755));
    EXPECT_TRUE(fsutil::write_file_atomic(password, "correct horse\n", 0600));
  }
  StoredVersion add(const std::vector<std::string>& names) {
    auto c = make_cert(names);
    NewVersion v{c.key_pem, c.leaf_pem, c.chain_pem, {}};
    v.meta.names = names;
    return *s.load_version(*s.add_version(v));
  }
  std::vector<OutputSpec> all() const {
    return {{out / "cert.pem", OutputFormat::Cert, "", "", 0644, std::nullopt, ""},
            {out / "key.pem", OutputFormat::Key, "", "", 0600, std::nullopt, ""},
            {out / "chain.pem", OutputFormat::Chain, "", "", 0644, std::nullopt, ""},
            {out / "full.pem", OutputFormat::Fullchain, "", "", 0644, std::nullopt, ""},
            {out / "all.pem", OutputFormat::CombinedPem, "", "", 0600, std::nullopt, ""},
            {out / "bundle.p12", OutputFormat::Pkcs12, "", "", 0600, password, "Default"}};
  }
  static std::string file(const fs::path& p) { return fsutil::read_file(p).value_or("<unreadable>"); }
  static std::string of(const StoredVersion& v, const char* name) { return file(v.dir() / name); }
  // Every file in out/, by name, with its content.
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> m;
    for (const auto& e : fs::directory_iterator(out)) m[e.path().filename().string()] = file(e.path());
    return m;
  }
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(Outputs, EveryFormatHoldsItsPartOfTheVersionWithItsMode) {
  OutputsFixture f;
  auto specs = f.all();
  ASSERT_TRUE(write_outputs(f.a, specs));
  EXPECT_EQ(f.file(f.out / "cert.pem"), f.of(f.a, "cert.pem"));
  EXPECT_EQ(f.file(f.out / "key.pem"), f.of(f.a, "privkey.pem"));
  EXPECT_EQ(f.file(f.out / "chain.pem"), f.of(f.a, "chain.pem"));
  EXPECT_EQ(f.file(f.out / "full.pem"), f.of(f.a, "fullchain.pem"));
  EXPECT_EQ(f.file(f.out / "all.pem"), f.of(f.a, "fullchain.pem") + f.of(f.a, "privkey.pem"));
  EXPECT_EQ(mode_of(f.out / "key.pem"), 0600u);
  EXPECT_EQ(mode_of(f.out / "cert.pem"), 0644u);
  EXPECT_EQ(mode_of(f.out / "bundle.p12"), 0600u);
  EXPECT_EQ(f.snapshot().size(), 6u) << "no temporaries or backups are left";
}

TEST(Outputs, Pkcs12ParsesBackWithTheKeyAndChainAndModernAlgorithms) {
  OutputsFixture f;
  auto specs = f.all();
  ASSERT_TRUE(write_outputs(f.a, specs));
  auto der = fsutil::read_file(f.out / "bundle.p12");
  ASSERT_TRUE(der);
  auto p12 = protocol::read_pkcs12(*der, "correct horse");  // the file's line, without its newline
  ASSERT_TRUE(p12) << p12.error().message;
  auto key = protocol::PrivateKey::from_pem(f.of(f.a, "privkey.pem"));
  ASSERT_TRUE(key);
  EXPECT_EQ(EVP_PKEY_eq(p12->key.get(), key->get()), 1);
  EXPECT_EQ(*p12->leaf.pem(), f.of(f.a, "cert.pem"));
  ASSERT_EQ(p12->chain.size(), 1u);
  EXPECT_EQ(*p12->chain[0].pem(), f.of(f.a, "chain.pem"));
  // The openssl tool agrees: SHA-256 MAC, PBES2 with PBKDF2 and AES-256-CBC.
  auto info = certagent::testing::run_shell("openssl pkcs12 -info -noout -in " + (f.out / "bundle.p12").string() +
                             " -passin file:" + f.password.string());
  EXPECT_EQ(info.code, 0) << info.out;
  EXPECT_NE(info.out.find("MAC: sha256"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("PBES2, PBKDF2, AES-256-CBC"), std::string::npos) << info.out;
  EXPECT_EQ(info.out.find("RC2"), std::string::npos) << info.out;
  EXPECT_EQ(info.out.find("3DES"), std::string::npos) << info.out;
}

TEST(Outputs, Pkcs12WithAnEmptyPassword) {
  OutputsFixture f;
  OutputSpec spec{f.out / "open.p12", OutputFormat::Pkcs12, "", "", 0600, std::nullopt, "x"};
  ASSERT_TRUE(write_output(f.a, spec));
  auto p12 = protocol::read_pkcs12(*fsutil::read_file(spec.path), "");
  ASSERT_TRUE(p12) << p12.error().message;
  EXPECT_EQ(p12->chain.size(), 1u);
}

TEST(Outputs, GroupFromThePolicyIsApplied) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another group needs root";
  OutputsFixture f;
  struct group* daemon_group = ::getgrnam("daemon");
  ASSERT_NE(daemon_group, nullptr) << "the test expects a 'daemon' group in /etc/group";
  const gid_t gid = daemon_group->gr_gid;
  OutputSpec spec{f.out / "key.pem", OutputFormat::Key, "", "daemon", 0640, std::nullopt, ""};
  ASSERT_TRUE(write_output(f.a, spec));
  struct stat st {};
  ASSERT_EQ(::stat(spec.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, gid);
  EXPECT_EQ(st.st_uid, ::geteuid()) << "no owner in the policy: not changed";
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  OutputSpec no_group{f.out / "cert.pem", OutputFormat::Cert, "", "", 0644, std::nullopt, ""};
  ASSERT_TRUE(write_output(f.a, no_group));
  ASSERT_EQ(::stat(no_group.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, ::getegid()) << "no group in the policy: not changed";
}

// Each bad input: a clear error naming the file and the fix, and the
// outputs written from version a are exactly as they were.
void expect_refused_and_untouched(OutputsFixture& f, std::vector<OutputSpec> specs, const std::string& names,
                                  const std::string& fix) {
  auto before = f.snapshot();
  auto r = write_outputs(f.b, specs);
  ASSERT_FALSE(r) << names;
  EXPECT_NE(r.error().message.find(names), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(fix), std::string::npos) << r.error().message;
  EXPECT_EQ(f.snapshot(), before) << "the previous outputs are untouched and nothing is left behind";
}

TEST(Outputs, UnknownGroupOrOwnerNamesTheFileAndTheFix) {
  OutputsFixture f;
  auto specs = f.all();
  ASSERT_TRUE(write_outputs(f.a, specs));
  specs[3].group = "no-such-group-certagent";
  expect_refused_and_untouched(f, specs, (f.out / "full.pem").string(), "no group named \"no-such-group-certagent\"");
  specs[3].group = "";
  specs[0].owner = "no-such-user-certagent";
  expect_refused_and_untouched(f, specs, (f.out / "cert.pem").string(), "change \"owner\" for this purpose");
}

TEST(Outputs, MissingOrUnwritableDirectoryIsRefused) {
  OutputsFixture f;
  auto specs = f.all();
  ASSERT_TRUE(write_outputs(f.a, specs));
  auto missing = specs;
  missing.push_back({f.t.path() / "nowhere" / "x.pem", OutputFormat::Cert, "", "", 0644, std::nullopt, ""});
  expect_refused_and_untouched(f, missing, (f.t.path() / "nowhere").string() + " does not exist", "install -d");
  // root may write anywhere a mode allows; sysfs refuses even root.
  fs::path locked = f.t.path() / "locked";
  if (::geteuid() == 0) {
    locked = "/sys";
  } else {
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms(0500));
  }
  auto unwritable = specs;
  unwritable.push_back({locked / "certagent-test.pem", OutputFormat::Cert, "", "", 0644, std::nullopt, ""});
  expect_refused_and_untouched(f, unwritable, (locked / "certagent-test.pem").string(), "must be able to create files in");
}

TEST(Outputs, SymlinkAtTheOutputPathIsRefusedAndNotFollowed) {
  OutputsFixture f;
  auto specs = f.all();
  ASSERT_TRUE(write_outputs(f.a, specs));
  const fs::path victim = f.t.path() / "victim";
  ASSERT_TRUE(fsutil::write_file_atomic(victim, "precious", 0644));
  fs::remove(f.out / "key.pem");
  fs::create_symlink(victim, f.out / "key.pem");
  expect_refused_and_untouched(f, specs, (f.out / "key.pem").string() + " is a symbolic link", "rm ");
  EXPECT_EQ(f.file(victim), "precious");
}

TEST(Outputs, WorldWritableDirectoryIsRefused) {
  OutputsFixture f;
  fs::path open_dir = f.t.path() / "open";
  fs::create_directory(open_dir);
  fs::permissions(open_dir, fs::perms(01777));
  auto r = write_output(f.a, {open_dir / "k.pem", OutputFormat::Key, "", "", 0600, std::nullopt, ""});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("writable by every user"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(open_dir));
}

// Issue 18 item 2: a user who owns a directory on an output path (/srv/app owned by `app`)
// replaces tls/ with a link to another directory; certagent must not write there.
TEST(Outputs, ALinkPlantedByTheOwnerOfADirectoryOnThePathLeavesTheVictimUntouched) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  OutputsFixture f;
  const fs::path app = f.t.path() / "srv-app", victim = f.t.path() / "victim";
  fs::create_directories(app / "tls");
  fs::create_directory(victim);
  ASSERT_EQ(::chown(app.c_str(), 4242, 4242), 0);  // the consumer's user owns /srv/app
  fs::remove(app / "tls");
  fs::create_directory_symlink(victim, app / "tls");  // what that user can do
  auto r = write_output(f.a, {app / "tls" / "server.key", OutputFormat::Key, "", "", 0600, std::nullopt, ""});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(app.string() + " is owned by uid 4242"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("owned by root or by the agent's user"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(victim));
}

TEST(Outputs, ALinkAnywhereOnThePathIsRefusedEvenInTrustedDirectories) {
  OutputsFixture f;
  const fs::path real = f.t.path() / "real", link = f.t.path() / "via-link";
  fs::create_directory(real);
  fs::create_directory_symlink(real, link);
  auto r = write_output(f.a, {link / "k.pem", OutputFormat::Key, "", "", 0600, std::nullopt, ""});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(link.string() + " is a symbolic link"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(real));
}

TEST(Outputs, AGroupWritableDirectoryIsRefusedUnlessThePolicyNamesThatGroupForTheOutput) {
  OutputsFixture f;
  const fs::path shared = f.t.path() / "shared";
  fs::create_directory(shared);
  fs::permissions(shared, fs::perms(0775));
  const gid_t gid = ::getegid();
  ASSERT_EQ(::chown(shared.c_str(), ::geteuid(), gid), 0);
  auto refused = write_output(f.a, {shared / "k.pem", OutputFormat::Key, "", "", 0600, std::nullopt, ""});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(shared.string() + " is writable by its group"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(fs::is_empty(shared));
  const group* g = ::getgrgid(gid);
  ASSERT_NE(g, nullptr);
  auto named = write_output(f.a, {shared / "k.pem", OutputFormat::Key, "", g->gr_name, 0640, std::nullopt, ""});
  EXPECT_TRUE(named) << named.error().message;
}

TEST(Outputs, MissingPasswordFileNamesItAndTheFix) {
  OutputsFixture f;
  auto specs = f.all();
  ASSERT_TRUE(write_outputs(f.a, specs));
  fs::remove(f.password);
  expect_refused_and_untouched(f, specs, f.password.string(), "pkcs12_empty_password");
}

TEST(Outputs, ThePasswordNeverAppearsInAnError) {
  OutputsFixture f;
  ASSERT_TRUE(fsutil::write_file_atomic(f.password, "hunter2\nsecond line\n", 0600));
  auto specs = f.all();
  auto r = write_outputs(f.a, specs);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than one line"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
}

TEST(Outputs, TheKeyIsInPlaceBeforeTheCertThatNeedsIt) {
  OutputsFixture f;
  auto specs = f.all();
  ASSERT_TRUE(write_outputs(f.a, specs));
  const std::string new_key = f.of(f.b, "privkey.pem"), new_cert = f.of(f.b, "cert.pem");
  int renames = 0;
  bool mismatch = false;
  set_fault_injector([&](std::string_view point) {
    if (point != "outputs.commit.before_rename") return false;
    ++renames;
    if (f.file(f.out / "cert.pem") == new_cert && f.file(f.out / "key.pem") != new_key) mismatch = true;
    if (f.file(f.out / "full.pem") == f.of(f.b, "fullchain.pem") && f.file(f.out / "key.pem") != new_key)
      mismatch = true;
    return false;
  });
  auto r = write_outputs(f.b, specs);
  set_fault_injector({});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(renames, 6);
  EXPECT_FALSE(mismatch) << "a consumer could have read the new cert next to the old key";
  EXPECT_EQ(f.file(f.out / "cert.pem"), new_cert);
  EXPECT_EQ(f.file(f.out / "key.pem"), new_key);
}

TEST(Outputs, AFailureMidCommitPutsEveryFileBack) {
  OutputsFixture f;
  auto specs = f.all();
  ASSERT_TRUE(write_outputs(f.a, specs));
  auto before = f.snapshot();
  int calls = 0;
  set_fault_injector([&](std::string_view point) { return point == "outputs.commit.before_rename" && ++calls == 4; });
  auto r = write_outputs(f.b, specs);
  set_fault_injector({});
  ASSERT_FALSE(r);
  EXPECT_EQ(f.snapshot(), before) << "three files had been renamed; all three are back";
}

TEST(Outputs, UndoRestoresBytesAndRemovesFilesThatWereNotThere) {
  OutputsFixture f;
  auto specs = f.all();
  specs.pop_back();  // no bundle before
  ASSERT_TRUE(write_outputs(f.a, specs));
  auto before = f.snapshot();
  auto staged = stage_outputs(f.b, f.all());
  ASSERT_TRUE(staged) << staged.error().message;
  EXPECT_EQ(f.snapshot().size(), before.size() + 5 + 6) << "five backups and six temporaries while staged";
  EXPECT_EQ(f.snapshot().count("key.pem"), 1u);
  EXPECT_EQ(f.file(f.out / "key.pem"), before.at("key.pem")) << "staging changes nothing visible";
  ASSERT_TRUE(staged->commit());
  EXPECT_EQ(f.file(f.out / "key.pem"), f.of(f.b, "privkey.pem"));
  EXPECT_TRUE(fs::exists(f.out / "bundle.p12"));
  ASSERT_TRUE(staged->undo());
  *staged = StagedOutputs();
  EXPECT_EQ(f.snapshot(), before);
}

TEST(Outputs, RelativePathIsRefused) {
  OutputsFixture f;
  auto r = write_output(f.a, {"relative.pem", OutputFormat::Cert, "", "", 0644, std::nullopt, ""});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not absolute"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists("relative.pem"));
}

}  // namespace
}  // namespace certagent::agent
