// The store's memo (agent/store/memo.hpp): a daemon's pass does not read a version again while
// its directory and five files keep their identity (inode, size, mtime, ctime), and an edit
// behind the store's back is seen — the same size, the mtime put back — because nobody can put
// a ctime back.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "agent/store/fsutil.hpp"
#include "agent/store/memo.hpp"
#include "agent/store/store.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // store_support.hpp: TempDir, make_cert, open_writable

std::string add(Store& s, const testing::TestCert& c) {
  auto id = s.add_version(NewVersion{c.key_pem, c.leaf_pem, c.chain_pem, {}});
  EXPECT_TRUE(id) << id.error().message;
  return id.value_or("");
}

// Scans until the memo answers for every version (files changed less than 2 s ago are never
// remembered), at most 15 s.
bool scan_until_remembered(const Store& s, std::size_t versions) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::size_t before = s.memo_hits();
    auto inv = s.inventory(InventoryDetail::Plan);
    if (inv && s.memo_hits() - before == versions) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// Overwrites `len` bytes at `offset` in place (same inode, same size) and puts the mtime back.
void edit_in_place(const fs::path& file, off_t offset, const std::string& bytes) {
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  ::chmod(file.c_str(), 0600);
  const int fd = ::open(file.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), offset), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
  ::chmod(file.c_str(), st.st_mode & 07777);
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  struct stat after {};
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, st.st_size);
  ASSERT_EQ(after.st_mtim.tv_sec, st.st_mtim.tv_sec);
  ASSERT_EQ(after.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
}

const StoredVersion* find(const Inventory& inv, const std::string& id) {
  for (const auto& v : inv.versions)
    if (v.id == id) return &v;
  return nullptr;
}

TEST(StoreMemo, AnUnchangedVersionIsNotReadAgainButAOneShotStoreRemembersNothing) {
  TempDir t;
  auto s = open_writable(t.path());
  add(s, make_cert({"a.example"}));
  add(s, make_cert({"b.example"}));
  ASSERT_TRUE(s.inventory(InventoryDetail::Plan));
  EXPECT_EQ(s.memo_hits(), 0u) << "remember_versions() not called: nothing kept";
  s.remember_versions();
  ASSERT_TRUE(scan_until_remembered(s, 2)) << "the memo never answered for the two versions";
  const std::size_t hits = s.memo_hits();
  auto inv = s.inventory(InventoryDetail::Plan);
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->versions.size(), 2u);
  EXPECT_EQ(s.memo_hits(), hits + 2);
  EXPECT_EQ(s.memo_changes(), 0u);
}

TEST(StoreMemo, ACertificateEditedInPlaceWithItsSizeAndMtimeRestoredIsNoticed) {
  TempDir t;
  auto s = open_writable(t.path());
  const std::string id = add(s, make_cert({"a.example"}));
  s.remember_versions();
  ASSERT_TRUE(scan_until_remembered(s, 1));
  const fs::path cert = t.path() / "certs" / id / "cert.pem";
  const std::string text = *fsutil::read_file(cert);
  const std::size_t at = text.find('\n') + 40;  // inside the base64 of the certificate
  edit_in_place(cert, static_cast<off_t>(at), std::string(1, text[at] == 'A' ? 'B' : 'A'));

  auto inv = s.inventory(InventoryDetail::Plan);
  ASSERT_TRUE(inv);
  EXPECT_EQ(find(*inv, id), nullptr) << "the edited certificate is no longer the one meta.json describes";
  ASSERT_EQ(inv->problems.size(), 1u);
  EXPECT_NE(inv->problems.front().path.string().find(id), std::string::npos);
  EXPECT_EQ(s.memo_changes(), 1u);
}

TEST(StoreMemo, AMetaFileEditedInPlaceWithItsSizeAndMtimeRestoredIsReadAgain) {
  TempDir t;
  auto s = open_writable(t.path());
  const std::string id = add(s, make_cert({"a.example"}));
  s.remember_versions();
  ASSERT_TRUE(scan_until_remembered(s, 1));
  const fs::path meta = t.path() / "certs" / id / "meta.json";
  const std::string text = *fsutil::read_file(meta);
  const auto at = text.find("\"a.example\"");
  ASSERT_NE(at, std::string::npos) << text;
  edit_in_place(meta, static_cast<off_t>(at), "\"z.example\"");

  auto inv = s.inventory(InventoryDetail::Plan);
  ASSERT_TRUE(inv);
  const StoredVersion* v = find(*inv, id);
  ASSERT_NE(v, nullptr) << "the certificate and key are still those meta.json names";
  ASSERT_EQ(v->meta.names.size(), 1u);
  EXPECT_EQ(v->meta.names.front(), "z.example") << "read again, not taken from the memo";
  EXPECT_EQ(s.memo_changes(), 1u);
}

TEST(StoreMemo, AFileReplacedByRenameIsNoticed) {
  TempDir t;
  auto s = open_writable(t.path());
  const std::string a = add(s, make_cert({"a.example"}));
  const std::string b = add(s, make_cert({"b.example"}));
  s.remember_versions();
  ASSERT_TRUE(scan_until_remembered(s, 2));
  const fs::path target = t.path() / "certs" / a / "cert.pem";
  const fs::path tmp = t.path() / "certs" / a / "incoming";
  fs::copy_file(t.path() / "certs" / b / "cert.pem", tmp);
  fs::rename(tmp, target);

  auto inv = s.inventory(InventoryDetail::Plan);
  ASSERT_TRUE(inv);
  EXPECT_EQ(find(*inv, a), nullptr) << "b's certificate under a's meta.json";
  EXPECT_NE(find(*inv, b), nullptr);
  EXPECT_EQ(s.memo_changes(), 1u);
}

// A Plan scan keeps what planning reads and leaves out the rest; a Full scan keeps everything
// and never answers from the memo (which holds only the Plan fields).
TEST(StoreMemo, APlanScanKeepsThePlanFieldsAndAFullScanReadsEveryVersion) {
  TempDir t;
  auto s = open_writable(t.path());
  const std::string id = add(s, make_cert({"a.example"}));
  s.remember_versions();
  ASSERT_TRUE(scan_until_remembered(s, 1));
  auto plan = s.inventory(InventoryDetail::Plan);
  ASSERT_TRUE(plan);
  const StoredVersion* p = find(*plan, id);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->meta.names, std::vector<std::string>{"a.example"});
  EXPECT_EQ(p->meta.thumbprint.size(), 40u);
  EXPECT_EQ(p->meta.key_type, "ec-p256");
  EXPECT_GT(p->meta.not_after, p->meta.not_before);
  EXPECT_TRUE(p->meta.subject.empty() && p->meta.issuer.empty() && p->meta.sha256.empty() && p->meta.serial.empty())
      << "left out of a Plan scan";
  EXPECT_EQ(p->dir(), t.path() / "certs" / id);

  const std::size_t hits = s.memo_hits();
  auto full = s.inventory();
  ASSERT_TRUE(full);
  EXPECT_EQ(s.memo_hits(), hits) << "a Full scan does not answer from the memo";
  const StoredVersion* f = find(*full, id);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->meta.subject, "CN=a.example");
  EXPECT_EQ(f->meta.sha256.size(), 64u);
  EXPECT_EQ(f->meta.thumbprint, p->meta.thumbprint);

  auto again = s.inventory(InventoryDetail::Plan);
  ASSERT_TRUE(again);
  EXPECT_EQ(s.memo_hits(), hits + 1) << "the Full scan left the memo as it was";
}

// The memo keeps a version's Plan fields packed in one buffer: every one of them comes back as it
// was — several names, an empty profile, a name with any byte in it — and nothing else.
TEST(StoreMemo, APackedPlanMetaGivesBackEveryPlanFieldAndNoOther) {
  CertificateMeta m;
  m.certificate_id = "fleet-site0001";
  m.names = {"site0001.fleet.bench.test", "", std::string("odd\0name", 8), "*.example.com"};
  m.subject = "CN=site0001";
  m.issuer = "CN=Pebble";
  m.not_before = std::chrono::sys_seconds{std::chrono::seconds{1'700'000'000}};
  m.not_after = m.not_before + std::chrono::hours{24 * 90};
  m.stored_at = m.not_before + std::chrono::seconds{5};
  m.thumbprint = std::string(40, 'A');
  m.sha256 = std::string(64, 'B');
  m.serial = "0123";
  m.key_type = "rsa-2048";
  m.order_url = "https://ca.example/order/1";
  m.profile = "";

  CertificateMeta want = m;
  want.subject = want.issuer = want.sha256 = want.serial = want.order_url = "";
  EXPECT_EQ(PlanMeta::of(m).meta(), want);

  m.names.clear();
  m.profile = "shortlived";
  want.names.clear();
  want.profile = "shortlived";
  EXPECT_EQ(PlanMeta::of(m).meta(), want) << "no names";
}

}  // namespace
}  // namespace certagent::agent
