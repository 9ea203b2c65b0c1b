// verify_version parses a version once: what add_version wrote, or a
// verification found good, is not parsed again while its bytes are the same;
// any changed byte is verified afresh. Storing from parsed objects decodes nothing.
#include <gtest/gtest.h>

#include <fstream>

#include "agent/store/fsutil.hpp"
#include "agent/engine/rebind.hpp"
#include "agent/store/store.hpp"
#include "agent/store/verify.hpp"
#include "protocol/x509/keys.hpp"
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

void overwrite(const fs::path& file, const std::string& text) {
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream(file, std::ios::trunc) << text;
}

TEST(StoreVerifyOnce, WhatAddVersionWroteIsNotParsedAgainByVerifyBindOrRebind) {
  TempDir t;
  auto s = open_writable(t.path());
  const std::string id = add(s, make_cert({"a.example"}));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.verify_version(id));
  const std::string purposes[] = {"Default"};
  ASSERT_TRUE(s.bind(purposes, id));
  auto outcomes = rebind(s, purposes, id, {});
  ASSERT_TRUE(outcomes) << outcomes.error().message;
  EXPECT_EQ(s.full_verifications(), 0u) << "the bytes add_version checked and read back count as verified";

  auto other = Store::open(t.path());  // another process: it knows nothing yet
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->verify_version(id));
  ASSERT_TRUE(other->verify_version(id));
  EXPECT_EQ(other->full_verifications(), 1u) << "parsed once, then known by its bytes";
  other->forget_verified();
  ASSERT_TRUE(other->verify_version(id));
  EXPECT_EQ(other->full_verifications(), 2u) << "forgotten (the end of a pass): parsed again";
}

TEST(StoreVerifyOnce, AChangedByteIsVerifiedAgainAtOnce) {
  TempDir t;
  auto s = open_writable(t.path());
  const std::string a = add(s, make_cert({"a.example"}));
  const std::string b = add(s, make_cert({"b.example"}));
  const fs::path key_a = t.path() / "certs" / a / "privkey.pem";
  const std::string original = *fsutil::read_file(key_a);
  // Same length, same inode, within the same clock tick: only the bytes tell.
  overwrite(key_a, *fsutil::read_file(t.path() / "certs" / b / "privkey.pem"));
  auto r = s.verify_version(a);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not belong"), std::string::npos) << r.error().message;
  EXPECT_EQ(s.full_verifications(), 1u);
  overwrite(key_a, original);
  EXPECT_TRUE(s.verify_version(a)) << "the original bytes pass";
  EXPECT_EQ(s.full_verifications(), 1u) << "the original bytes are the ones known good: not parsed again";
  overwrite(key_a, *fsutil::read_file(t.path() / "certs" / b / "privkey.pem"));
  EXPECT_FALSE(s.verify_version(a)) << "a failed verification is not remembered as good";
  EXPECT_EQ(s.full_verifications(), 2u);
}

TEST(StoreVerifyOnce, AFullchainThatIsNotCertFollowedByChainIsRefused) {
  TempDir t;
  auto s = open_writable(t.path());
  auto c = make_cert({"a.example"});
  const std::string id = add(s, c);
  overwrite(t.path() / "certs" / id / "fullchain.pem", c.chain_pem + c.leaf_pem);
  auto r = s.verify_version(id);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("fullchain.pem is not cert.pem followed by chain.pem"), std::string::npos)
      << r.error().message;
}

TEST(StoreVerifyOnce, StoringParsedObjectsWritesWhatThePemPathWrites) {
  auto c = make_cert({"a.example", "b.example"});
  auto key = protocol::PrivateKey::from_pem(c.key_pem);
  auto leaf = parse_leaf(c.leaf_pem);
  auto chain = parse_chain(c.chain_pem);
  ASSERT_TRUE(key && leaf && chain);
  std::vector<protocol::Certificate> all;
  all.push_back(std::move(*leaf));
  for (auto& x : *chain) all.push_back(std::move(x));
  TempDir t;
  auto s = open_writable(t.path());
  CertificateMeta meta;
  meta.certificate_id = "front-end";
  auto id = s.add_version(*key, all, meta);
  ASSERT_TRUE(id) << id.error().message;
  TempDir t2;
  auto s2 = open_writable(t2.path());
  EXPECT_EQ(add(s2, c), *id);
  for (const char* f : {"cert.pem", "chain.pem", "fullchain.pem"})
    EXPECT_EQ(*fsutil::read_file(t.path() / "certs" / *id / f), *fsutil::read_file(t2.path() / "certs" / *id / f)) << f;
  auto v = Store::open(t.path())->verify_version(*id);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->meta.names, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(v->meta.key_type, "ec-p256");

  auto stranger = protocol::PrivateKey::from_pem(make_cert({"c.example"}).key_pem);
  auto refused = s.add_version(*stranger, std::span(all).first(1), meta);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("does not belong"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(s.add_version(*key, std::span<const protocol::Certificate>{}, meta));
}

}  // namespace
}  // namespace certagent::agent
