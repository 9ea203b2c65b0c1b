// The TSIG key file as `tsig-keygen` writes it; every bad file gets FILE:LINE and never the secret.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "protocol/dns/tsig_key.hpp"

namespace certagent::protocol {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=";

std::string keygen_text(const std::string& secret = kSecret) {
  return "key \"acme-update\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret + "\";\n};\n";
}

TEST(TsigKey, ReadsWhatTsigKeygenWrites) {
  auto k = parse_tsig_key(keygen_text(), "k.key");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->name, "acme-update");
  EXPECT_EQ(k->algorithm, "hmac-sha256");
  EXPECT_EQ(k->secret, kSecret);
}

TEST(TsigKey, CommentsAndOtherLayoutsAreFine) {
  auto k = parse_tsig_key("# made by tsig-keygen\n/* a\n comment */ key Acme.Update. { // here\n"
                          "secret \"" + std::string(kSecret) + "\"; algorithm HMAC-SHA512; };", "k.key");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->name, "acme.update");
  EXPECT_EQ(k->algorithm, "hmac-sha512");
}

struct BadFile {
  std::string text;
  std::string where;    // "k.key:LINE:"
  std::string message;
};

class TsigKeyBad : public ::testing::TestWithParam<BadFile> {};

TEST_P(TsigKeyBad, NamesTheLineAndNeverTheSecret) {
  auto k = parse_tsig_key(GetParam().text, "k.key");
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().kind, ErrorKind::Invalid);
  EXPECT_THAT(k.error().message, HasSubstr(GetParam().where));
  EXPECT_THAT(k.error().message, HasSubstr(GetParam().message));
  EXPECT_THAT(k.error().message, Not(HasSubstr("3q2+7w")));
}

const std::string S = kSecret;
INSTANTIATE_TEST_SUITE_P(
    Files, TsigKeyBad,
    ::testing::Values(
        BadFile{"", "k.key:1:", "expected 'key', found the end of the file"},
        BadFile{"\n\nkeys \"a\" {};", "k.key:3:", "expected 'key', found 'keys'"},
        BadFile{"key \"a\" {\n algorithm hmac-md5;\n secret \"" + S + "\";\n};", "k.key:2:",
                "the algorithm 'hmac-md5' is not supported"},
        BadFile{"key \"a\" {\n algorithm hmac-sha256;\n};", "k.key:3:", "the key has no 'secret'"},
        BadFile{"key \"a\" {\n secret \"" + S + "\";\n};", "k.key:3:", "the key has no 'algorithm'"},
        BadFile{"key \"a\" {\n algorithm hmac-sha256;\n secret " + S + ";\n};", "k.key:3:",
                "the secret must be a quoted base64 string"},
        BadFile{"key \"a\" {\n algorithm hmac-sha256;\n\n secret \"3q2+7w!!\";\n};", "k.key:4:",
                "the secret is not base64"},
        BadFile{"key \"a\" {\n algorithm hmac-sha256\n secret \"" + S + "\";\n};", "k.key:3:",
                "expected ';' after the algorithm, found 'secret'"},
        BadFile{"key \"a\" {\n algorithm hmac-sha256;\n secret \"" + S + "\n\";\n};", "k.key:3:",
                "a quoted string is not closed on its line"},
        BadFile{"key \"a\" {\n algorithm hmac-sha256;\n secret \"" + S + "\";\n}", "k.key:4:",
                "expected ';' after the key's closing '}', found the end of the file"},
        BadFile{"key \"a\" { algorithm hmac-sha256; secret \"" + S + "\"; };\nkey \"b\" {};", "k.key:2:",
                "only one key statement"},
        BadFile{"key \"bad name!\" {};", "k.key:1:", "is not a DNS name"},
        BadFile{"/* open\n\nkey", "k.key:1:", "a /* comment is never closed"},
        BadFile{"key \"a\" {\n algorithm hmac-sha256;\n algorithm hmac-sha256;\n};", "k.key:3:",
                "a second 'algorithm'"}));

class TsigKeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tsig-key-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "update.key").string();
    std::ofstream(path_) << keygen_text();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(TsigKeyFile, Mode0600And0640AreRead) {
  for (mode_t mode : {0600, 0640, 0400}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    auto k = read_tsig_key_file(path_);
    ASSERT_TRUE(k) << k.error().message;
    EXPECT_EQ(k->name, "acme-update");
  }
}

TEST_F(TsigKeyFile, AFileOthersCanReadOrTheGroupCanWriteIsRefused) {
  for (mode_t mode : {0644, 0604, 0660, 0602}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    auto k = read_tsig_key_file(path_);
    ASSERT_FALSE(k) << std::oct << mode;
    EXPECT_THAT(k.error().message, HasSubstr(path_));
    EXPECT_THAT(k.error().message, HasSubstr("chmod 0600"));
  }
}

TEST_F(TsigKeyFile, ASymlinkOrAMissingFileIsRefused) {
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  const auto link = (dir_ / "link.key").string();
  std::filesystem::create_symlink(path_, link);
  EXPECT_FALSE(read_tsig_key_file(link));
  auto missing = read_tsig_key_file((dir_ / "missing.key").string());
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("cannot open the TSIG key file"));
}

TEST_F(TsigKeyFile, ErrorsInTheFileNameItsPathAndLine) {
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  std::ofstream(path_) << "key \"a\" {\n algorithm hmac-sha1;\n};\n";
  auto k = read_tsig_key_file(path_);
  ASSERT_FALSE(k);
  EXPECT_THAT(k.error().message, HasSubstr(path_ + ":2:"));
}

}  // namespace
}  // namespace certagent::protocol
