#include "agent/store/store.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "agent/store/fault.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/verify.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // store_support.hpp: TempDir, make_cert, open_writable

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

NewVersion version_of(const testing::TestCert& c, std::string id = "front-end") {
  NewVersion v{c.key_pem, c.leaf_pem, c.chain_pem, {}};
  v.meta.certificate_id = std::move(id);
  v.meta.names = {"pool.example.com"};
  v.meta.order_url = "https://ca.example/order/7";
  return v;
}

struct FaultGuard {
  explicit FaultGuard(FaultInjector f) { set_fault_injector(std::move(f)); }
  ~FaultGuard() { set_fault_injector({}); }
};

TEST(Store, OpenCreatesPrivateLayout) {
  TempDir t;
  auto dir = t.path() / "state";
  auto s = open_writable(dir);
  EXPECT_TRUE(s.writable());
  for (const char* sub : {"", "accounts", "certs", "live"}) EXPECT_EQ(mode_of(dir / sub), 0700u) << sub;
  EXPECT_EQ(mode_of(dir / "lock"), 0600u);
}

TEST(Store, OpenRefusesSymlinkedStateDirectory) {
  TempDir t;
  fs::create_directory(t.path() / "real");
  fs::create_symlink(t.path() / "real", t.path() / "state");
  auto s = Store::open(t.path() / "state", {.write = true});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("symbolic link"), std::string::npos) << s.error().message;
}

TEST(Store, OpenRefusesGroupWritableStateDirectory) {
  TempDir t;
  fs::create_directory(t.path() / "state");
  ::chmod((t.path() / "state").c_str(), 0770);
  auto s = Store::open(t.path() / "state", {.write = true});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("writable by group or others"), std::string::npos) << s.error().message;
}

TEST(Store, ReadOnlyOpenOfMissingDirectoryIsClear) {
  TempDir t;
  auto s = Store::open(t.path() / "none");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("does not exist"), std::string::npos) << s.error().message;
}

TEST(Store, ReadOnlyStoreRefusesWrites) {
  TempDir t;
  { auto w = open_writable(t.path() / "s"); }
  auto r = Store::open(t.path() / "s");
  ASSERT_TRUE(r);
  auto added = r->add_version(version_of(make_cert({"a.example"})));
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().message.find("read-only"), std::string::npos);
}

TEST(Store, SecondWriterIsRefusedWhileFirstHoldsTheLock) {
  TempDir t;
  auto first = open_writable(t.path());
  int status = testing::run_in_child([&] {
    auto second = Store::open(t.path(), {.write = true});
    bool named = !second && second.error().message.find("pid " + std::to_string(::getppid())) != std::string::npos;
    ::_exit(named ? 0 : 1);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(Store::open(t.path())) << "readers need no lock";
}

TEST(Store, AccountRoundTripWithPrivateKeyFile) {
  TempDir t;
  auto s = open_writable(t.path());
  Account a{"https://ca.example/dir", "https://ca.example/acct/1", {"mailto:ops@example.com"}, "KEY PEM"};
  ASSERT_TRUE(s.save_account(a));
  auto back = s.load_account(a.directory_url);
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->account_url, a.account_url);
  EXPECT_EQ((*back)->contacts, a.contacts);
  EXPECT_EQ((*back)->key_pem, a.key_pem);
  auto dir = t.path() / "accounts" / account_dir_name(a.directory_url);
  EXPECT_EQ(mode_of(dir / "account.key"), 0600u);
  EXPECT_EQ(mode_of(dir), 0700u);
  auto none = s.load_account("https://other.example/dir");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(Store, AccountKeyWithoutJsonIsAnUnregisteredAccount) {
  TempDir t;
  auto s = open_writable(t.path());
  auto dir = t.path() / "accounts" / account_dir_name("https://ca.example/dir");
  ASSERT_TRUE(fsutil::make_private_dir(dir));
  ASSERT_TRUE(fsutil::write_file_atomic(dir / "account.key", "KEY", 0600));
  auto back = s.load_account("https://ca.example/dir");
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->key_pem, "KEY");
  EXPECT_TRUE((*back)->account_url.empty());
}

TEST(Store, AccountJsonForAnotherDirectoryIsRefused) {
  TempDir t;
  auto s = open_writable(t.path());
  ASSERT_TRUE(s.save_account({"https://a.example/dir", "u", {}, "K"}));
  auto src = t.path() / "accounts" / account_dir_name("https://a.example/dir");
  auto dst = t.path() / "accounts" / account_dir_name("https://b.example/dir");
  fs::rename(src, dst);
  auto r = s.load_account("https://b.example/dir");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("another directory URL"), std::string::npos) << r.error().message;
}

TEST(Store, AddVersionWritesCompleteImmutableVersion) {
  TempDir t;
  auto s = open_writable(t.path());
  auto c = make_cert({"pool.example.com", "lyncdiscover.example.com"});
  auto id = s.add_version(version_of(c));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(is_version_id(*id)) << *id;
  auto dir = t.path() / "certs" / *id;
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(dir / "privkey.pem"), 0600u);
  EXPECT_EQ(*fsutil::read_file(dir / "fullchain.pem"), c.leaf_pem + c.chain_pem);
  auto v = s.verify_version(*id);
  ASSERT_TRUE(v) << v.error().message;
  auto leaf = parse_leaf(c.leaf_pem);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(v->meta.thumbprint, leaf->info().sha1_thumbprint);
  EXPECT_EQ(v->meta.thumbprint.size(), 40u);
  EXPECT_EQ(v->meta.sha256, leaf->info().sha256_fingerprint);
  EXPECT_EQ(v->meta.names, (std::vector<std::string>{"pool.example.com", "lyncdiscover.example.com"}))
      << "names come from the certificate, not from the caller";
  EXPECT_EQ(v->meta.subject, "CN=pool.example.com");
  EXPECT_NE(v->meta.issuer.find("certagent test CA"), std::string::npos) << v->meta.issuer;
  EXPECT_EQ(v->meta.key_type, "ec-p256");
  EXPECT_EQ(v->meta.certificate_id, "front-end");
  EXPECT_EQ(v->meta.order_url, "https://ca.example/order/7");
  EXPECT_EQ(v->meta.not_after - v->meta.not_before, std::chrono::hours(24 * 90));
  auto again = s.add_version(version_of(c));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *id) << "storing the same certificate twice is idempotent";
}

TEST(Store, AddVersionRefusesAMismatchedKey) {
  TempDir t;
  auto s = open_writable(t.path());
  auto c = make_cert({"a.example"});
  c.key_pem = make_cert({"b.example"}).key_pem;
  auto r = s.add_version(version_of(c));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not belong to the certificate"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(t.path() / "certs"));
}

TEST(Store, AddVersionRefusesHostilePem) {
  TempDir t;
  auto s = open_writable(t.path());
  auto c = make_cert({"a.example"});
  auto with_key = version_of(c);
  with_key.chain_pem += c.key_pem;
  auto r = s.add_version(with_key);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("PRIVATE KEY"), std::string::npos) << r.error().message;
  auto garbage = version_of(c);
  garbage.chain_pem = "\x01\x02garbage" + c.chain_pem;
  EXPECT_FALSE(s.add_version(garbage));
  auto two = version_of(c);
  two.leaf_pem += c.chain_pem;
  EXPECT_FALSE(s.add_version(two));
  auto wrong_thumb = version_of(c);
  wrong_thumb.meta.thumbprint = std::string(40, '0');
  EXPECT_FALSE(s.add_version(wrong_thumb));
  EXPECT_TRUE(fs::is_empty(t.path() / "certs"));
}

const char* kVersionPoints[] = {"write_file.after_create",        "write_file.mid_write",
                                "store.version.after_privkey.pem", "store.version.after_cert.pem",
                                "store.version.after_fullchain.pem", "store.version.after_meta.json",
                                "fsutil.syncfs",                   "store.version.before_rename"};

TEST(Store, InjectedFailureLeavesNoVersionAndNoTemporary) {
  for (const char* point : kVersionPoints) {
    TempDir t;
    auto s = open_writable(t.path());
    FaultGuard g([&](std::string_view p) { return p == point; });
    auto r = s.add_version(version_of(make_cert({"a.example"})));
    ASSERT_FALSE(r) << point;
    EXPECT_TRUE(fs::is_empty(t.path() / "certs")) << point;
  }
}

TEST(Store, SigkillWhileStoringLeavesNoHalfVersion) {
  for (const char* point : kVersionPoints) {
    TempDir t;
    auto c = make_cert({"a.example"});
    int status = testing::run_in_child([&] {
      auto s = Store::open(t.path(), {.write = true});
      set_fault_injector([&](std::string_view p) {
        if (p == point) ::raise(SIGKILL);
        return false;
      });
      (void)s->add_version(version_of(c));
    });
    ASSERT_TRUE(WIFSIGNALED(status)) << point;
    auto s = open_writable(t.path());  // the lock died with the child
    auto inv = s.inventory();
    ASSERT_TRUE(inv) << point;
    EXPECT_TRUE(inv->versions.empty()) << point;
    ASSERT_EQ(inv->problems.size(), 1u) << point;
    EXPECT_NE(inv->problems[0].what.find("interrupted write"), std::string::npos);
    auto id = s.add_version(version_of(c));  // the next run stores it whole
    ASSERT_TRUE(id) << point << ": " << id.error().message;
    EXPECT_TRUE(s.verify_version(*id)) << point;
  }
}

TEST(Store, CorruptAndForeignEntriesAreReportedSkippedAndKept) {
  TempDir t;
  auto s = open_writable(t.path());
  auto good = s.add_version(version_of(make_cert({"good.example"})));
  auto bad = s.add_version(version_of(make_cert({"bad.example"})));
  ASSERT_TRUE(good && bad);
  ASSERT_TRUE(fsutil::write_file_atomic(t.path() / "certs" / *bad / "meta.json", "{truncated", 0644));
  fs::create_directory(t.path() / "certs" / "backup-by-hand");
  fs::create_directory(t.path() / "certs" / "20250101T000000Z-0000000000000000");
  auto inv = s.inventory();
  ASSERT_TRUE(inv) << inv.error().message;
  ASSERT_EQ(inv->versions.size(), 1u);
  EXPECT_EQ(inv->versions[0].id, *good);
  ASSERT_EQ(inv->problems.size(), 3u);
  for (const auto& p : inv->problems) EXPECT_TRUE(fs::exists(p.path)) << p.path;
  std::string all;
  for (const auto& p : inv->problems) all += p.path.filename().string() + ": " + p.what + "\n";
  EXPECT_NE(all.find("meta.json: not JSON"), std::string::npos) << all;
  EXPECT_NE(all.find("not a certificate version certagent made"), std::string::npos) << all;
  EXPECT_NE(all.find("missing or not a regular file"), std::string::npos) << all;
}

TEST(Store, VerifyCatchesASwappedKeyAndTamperedMeta) {
  TempDir t;
  auto s = open_writable(t.path());
  auto a = s.add_version(version_of(make_cert({"a.example"})));
  auto b = s.add_version(version_of(make_cert({"b.example"})));
  ASSERT_TRUE(a && b);
  auto dir_a = t.path() / "certs" / *a;
  fs::copy_file(t.path() / "certs" / *b / "privkey.pem", dir_a / "privkey.pem", fs::copy_options::overwrite_existing);
  EXPECT_TRUE(s.load_version(*a)) << "the light check does not read keys";
  auto r = s.verify_version(*a);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not belong"), std::string::npos) << r.error().message;
  auto dir_b = t.path() / "certs" / *b;
  fs::copy_file(t.path() / "certs" / *a / "cert.pem", dir_b / "cert.pem", fs::copy_options::overwrite_existing);
  r = s.verify_version(*b);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("fingerprints"), std::string::npos) << r.error().message;
}

TEST(Store, FindByThumbprintInEveryForm) {
  TempDir t;
  auto s = open_writable(t.path());
  auto id = s.add_version(version_of(make_cert({"a.example"})));
  ASSERT_TRUE(s.add_version(version_of(make_cert({"b.example"}))));
  ASSERT_TRUE(id);
  auto v = *s.load_version(*id);
  std::string spaced;
  for (std::size_t i = 0; i < 40; i += 2) spaced += (i ? " " : "") + v.meta.thumbprint.substr(i, 2);
  for (char& ch : spaced) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const std::string& q : {v.meta.thumbprint, spaced, "\xE2\x80\x8E" + spaced, v.meta.sha256}) {
    auto found = s.find_by_thumbprint(q);
    ASSERT_TRUE(found && *found) << q;
    EXPECT_EQ((*found)->id, *id);
  }
  auto none = s.find_by_thumbprint(std::string(40, 'F'));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_FALSE(s.find_by_thumbprint("not hex"));
}

TEST(Store, PurposeAndVersionNames) {
  EXPECT_TRUE(check_purpose_name("WebServicesExternal"));
  EXPECT_TRUE(check_purpose_name("nginx-edge_1.v2"));
  for (const char* bad : {"", ".hidden", "a/b", "..", "a b", "x\n"}) EXPECT_FALSE(check_purpose_name(bad)) << bad;
  EXPECT_FALSE(check_purpose_name(std::string(65, 'a')));
  auto id = make_version_id(std::chrono::sys_seconds(std::chrono::seconds(1740830400)), std::string(64, 'A'));
  EXPECT_EQ(id, "20250301T120000Z-aaaaaaaaaaaaaaaa");
  EXPECT_TRUE(is_version_id(id));
  EXPECT_FALSE(is_version_id("20250301T120000Z-AAAAAAAAAAAAAAAA"));
  EXPECT_FALSE(is_version_id("../../etc"));
}

}  // namespace
}  // namespace certagent::agent
