// The pool's encryption: AES-256-GCM with a key from a file only the agent may read.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "protocol/x509/aead.hpp"
#include "support/temp_dir.hpp"

namespace certagent::protocol {
namespace {

const char* kKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

TEST(Aead, SealedValuesDifferEachTimeAndOpenOnlyUnaltered) {
  auto key = aead_key_from_base64(kKey);
  ASSERT_TRUE(key);
  auto a = aead_seal(*key, "private key", "ctx");
  auto b = aead_seal(*key, "private key", "ctx");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // a fresh nonce each time
  EXPECT_EQ(aead_open(*key, *a, "ctx").value_or(""), "private key");
  std::string altered = *a;
  altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(aead_open(*key, altered, "ctx"));
  EXPECT_FALSE(aead_open(*key, *a, "other ctx"));
  EXPECT_FALSE(aead_open(*key, "plain text", "ctx"));
  EXPECT_EQ(aead_key_id(*key).size(), 16u);
}

TEST(Aead, TheKeyFileMustBe32BytesAndPrivate) {
  certagent::testing::TempDir dir;
  const auto path = (dir.path() / "pool.key").string();
  { std::ofstream(path) << kKey << "\n"; }
  ::chmod(path.c_str(), 0644);
  auto open_to_all = read_aead_key_file(path);
  ASSERT_FALSE(open_to_all);
  EXPECT_NE(open_to_all.error().message.find("has mode 0644"), std::string::npos) << open_to_all.error().message;
  ::chmod(path.c_str(), 0600);
  auto key = read_aead_key_file(path);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(*key, *aead_key_from_base64(kKey));
  { std::ofstream(path) << "c2hvcnQ=\n"; }
  auto short_key = read_aead_key_file(path);
  ASSERT_FALSE(short_key);
  EXPECT_NE(short_key.error().message.find("not the base64 of 32 bytes"), std::string::npos);
  EXPECT_EQ(short_key.error().message.find("c2hvcnQ"), std::string::npos);  // the text is never shown
}

}  // namespace
}  // namespace certagent::protocol
