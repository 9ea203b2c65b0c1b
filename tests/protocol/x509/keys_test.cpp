#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <thread>
#include <vector>

#include <openssl/pem.h>

#include "protocol/x509/keys.hpp"

namespace certagent::protocol {
namespace {

class KeyTypes : public ::testing::TestWithParam<KeyType> {};

TEST_P(KeyTypes, GenerateRoundTripsThroughPem) {
  auto key = PrivateKey::generate(GetParam());
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->type(), GetParam());
  auto pem = key->to_pem();
  ASSERT_TRUE(pem);
  EXPECT_NE(pem->find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  auto back = PrivateKey::from_pem(*pem);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->type(), GetParam());
  EXPECT_EQ(*back->public_pem(), *key->public_pem());
}

INSTANTIATE_TEST_SUITE_P(All, KeyTypes,
                         ::testing::Values(KeyType::EcP256, KeyType::EcP384, KeyType::Rsa2048,
                                           KeyType::Rsa3072));

// to_pem() encodes once: every call (from any thread, after a move too) gives the
// same PKCS#8 text, and that text is this key.
TEST(PrivateKey, PemIsEncodedOnceAndIsTheSameForEveryCaller) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  ASSERT_TRUE(key) << key.error().message;
  std::vector<std::string> seen(4);
  {
    std::vector<std::jthread> threads;
    for (auto& out : seen) threads.emplace_back([&key, &out] { out = key->to_pem().value_or(""); });
  }
  for (const auto& pem : seen) EXPECT_EQ(pem, seen.front());
  ASSERT_TRUE(seen.front().starts_with("-----BEGIN PRIVATE KEY-----\n"));
  PrivateKey moved = std::move(*key);
  EXPECT_EQ(moved.to_pem().value_or(""), seen.front());
  auto back = PrivateKey::from_pem(seen.front());
  ASSERT_TRUE(back);
  EXPECT_EQ(EVP_PKEY_eq(back->get(), moved.get()), 1);
  auto other = PrivateKey::generate(KeyType::EcP256);
  ASSERT_TRUE(other);
  EXPECT_NE(other->to_pem().value_or(""), seen.front());
}

TEST(KeyType, ParsesEveryNameAndRefusesOthers) {
  for (auto t : {KeyType::EcP256, KeyType::EcP384, KeyType::Rsa2048, KeyType::Rsa3072, KeyType::Rsa4096})
    EXPECT_EQ(*parse_key_type(to_string(t)), t);
  auto bad = parse_key_type("rsa-1024");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("rsa-1024"), std::string::npos);
}

TEST(PrivateKey, GarbagePemIsAnErrorNotACrash) {
  auto k = PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().kind, ErrorKind::Crypto);
  EXPECT_FALSE(PrivateKey::from_pem(""));
}

// Found by fuzz_private_key: an encrypted key made OpenSSL prompt "Enter PEM pass phrase:" on
// the terminal and block. Both encrypted forms must be refused at once, saying why.
TEST(PrivateKey, EncryptedPemIsRefusedWithoutPrompting) {
  auto key = PrivateKey::generate(KeyType::EcP256);
  ASSERT_TRUE(key);
  static const char pass[] = "secret";
  for (bool pkcs8 : {true, false}) {
    ossl::Bio out(BIO_new(BIO_s_mem()));
    ASSERT_TRUE(out);
    int written = pkcs8 ? PEM_write_bio_PKCS8PrivateKey(out.get(), key->get(), EVP_aes_128_cbc(), pass,
                                                        sizeof pass - 1, nullptr, nullptr)
                        : PEM_write_bio_PrivateKey_traditional(
                              out.get(), key->get(), EVP_aes_128_cbc(),
                              reinterpret_cast<const unsigned char*>(pass), sizeof pass - 1, nullptr, nullptr);
    ASSERT_EQ(written, 1);
    const std::string pem = ossl::bio_to_string(out.get());
    ASSERT_NE(pem.find(pkcs8 ? "ENCRYPTED PRIVATE KEY" : "Proc-Type: 4,ENCRYPTED"), std::string::npos);
    auto read = PrivateKey::from_pem(pem);
    ASSERT_FALSE(read) << (pkcs8 ? "PKCS#8" : "traditional");
    EXPECT_EQ(read.error().kind, ErrorKind::Invalid);
    EXPECT_NE(read.error().message.find("encrypted with a passphrase"), std::string::npos) << read.error().message;
  }
}

TEST(PrivateKey, WritesNewFileMode0600AndRefusesToOverwrite) {
  auto dir = std::filesystem::temp_directory_path() / ("certagent-keytest-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto key = PrivateKey::generate(KeyType::EcP256);
  ASSERT_TRUE(key);
  auto file = dir / "k.pem";
  ASSERT_TRUE(key->write_new_file(file));
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = key->write_new_file(file);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::Storage);
  auto loaded = PrivateKey::load(file);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded->public_pem(), *key->public_pem());
  // A symlink is never followed when creating.
  std::filesystem::create_symlink(dir / "target", dir / "link.pem");
  EXPECT_FALSE(key->write_new_file(dir / "link.pem"));
  EXPECT_FALSE(std::filesystem::exists(dir / "target"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace certagent::protocol
