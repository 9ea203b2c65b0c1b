#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "protocol/x509/certificate.hpp"
#include "support/test_pki.hpp"

namespace certagent::protocol {
namespace {

using namespace certagent::testing::pki;
using std::chrono::system_clock;
using namespace std::chrono_literals;

class VerifyChain : public ::testing::Test {
 protected:
  VerifyChain() {
    spec_.dns_names = {"www.example.com"};
    spec_.not_before = now_ - 24h;
    spec_.not_after = now_ + 24h * 10;
    chain_.push_back(inter_.issue(key_, spec_));
    chain_.push_back(must(inter_.certificate().clone()));
    trust_.push_back(must(root_.certificate().clone()));
  }

  void expect_failure(const Result<void>& r, const std::string& part) {
    ASSERT_FALSE(r) << "expected failure containing: " << part;
    EXPECT_EQ(r.error().kind, ErrorKind::Crypto);
    EXPECT_NE(r.error().message.find(part), std::string::npos) << r.error().message;
  }

  system_clock::time_point now_ = system_clock::now();
  TestCa root_{"certagent test root"};
  TestCa inter_ = root_.intermediate("certagent test intermediate");
  PrivateKey key_ = new_key();
  CertSpec spec_;
  std::vector<Certificate> chain_;
  std::vector<Certificate> trust_;
};

TEST_F(VerifyChain, PassesInsideTheValidityWindow) {
  auto r = verify_chain(chain_, trust_, now_);
  EXPECT_TRUE(r) << r.error().message;
  EXPECT_TRUE(verify_chain(chain_, trust_, now_ + 24h * 9));
}

TEST_F(VerifyChain, FailsAfterNotAfterNamingTheReasonAndTime) {
  auto at = now_ + 24h * 11;
  auto r = verify_chain(chain_, trust_, at);
  expect_failure(r, "certificate has expired");
  expect_failure(r, "certificate 'CN=www.example.com' does not verify at " + to_utc_string(at));
  expect_failure(r, "depth 0");
}

TEST_F(VerifyChain, FailsBeforeNotBefore) {
  expect_failure(verify_chain(chain_, trust_, now_ - 48h), "certificate is not yet valid");
}

TEST_F(VerifyChain, FailsWithoutTheIntermediate) {
  expect_failure(verify_chain(std::span(chain_).first(1), trust_, now_), "unable to get local issuer certificate");
}

TEST_F(VerifyChain, FailsAgainstAnotherRoot) {
  TestCa other{"some other root"};
  std::vector<Certificate> other_trust;
  other_trust.push_back(must(other.certificate().clone()));
  expect_failure(verify_chain(chain_, other_trust, now_), "unable to get local issuer certificate");
}

TEST_F(VerifyChain, FailsWhenTheLeafIsSignedByAnImpostorWithTheSameName) {
  TestCa impostor{"certagent test intermediate"};  // same subject, different key
  std::vector<Certificate> chain;
  chain.push_back(impostor.issue(key_, spec_));
  chain.push_back(must(inter_.certificate().clone()));
  auto r = verify_chain(chain, trust_, now_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("CN=www.example.com"), std::string::npos) << r.error().message;
}

TEST_F(VerifyChain, EmptyChainOrEmptyTrustIsAnError) {
  auto no_chain = verify_chain({}, trust_, now_);
  ASSERT_FALSE(no_chain);
  EXPECT_NE(no_chain.error().message.find("chain is empty"), std::string::npos);
  auto no_trust = verify_chain(chain_, {}, now_);
  ASSERT_FALSE(no_trust);
  EXPECT_NE(no_trust.error().message.find("trust bundle is empty"), std::string::npos);
}

TEST_F(VerifyChain, TrustBundleFromAFileWithCommentsBetweenBlocks) {
  TestCa other{"some other root"};
  std::string bundle = "# a comment like curl's cacert.pem has\n" + other.pem() + "\nCertagent test root\n=====\n" +
                       root_.pem();
  auto path = std::filesystem::temp_directory_path() / ("certagent-bundle-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(path) << bundle;
  auto trust = load_trust_bundle(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(trust) << trust.error().message;
  ASSERT_EQ(trust->size(), 2u);
  EXPECT_TRUE(verify_chain(chain_, *trust, now_));
  // The same text is not a valid chain: RFC 8555 chains allow no text outside blocks.
  EXPECT_FALSE(parse_pem_chain(bundle));
}

TEST(TrustBundle, ParsesTheSystemBundle) {
  // scripts/bootstrap installs ca-certificates; the count comes from the file itself.
  const std::filesystem::path file = "/etc/ssl/certs/ca-certificates.crt";
  std::ifstream in(file);
  ASSERT_TRUE(in) << file;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t blocks = 0;
  for (size_t p = 0; (p = text.find("-----BEGIN CERTIFICATE-----", p)) != std::string::npos; ++p) ++blocks;
  auto trust = load_trust_bundle(file);
  ASSERT_TRUE(trust) << trust.error().message;
  EXPECT_EQ(trust->size(), blocks);
  for (const auto& c : *trust) EXPECT_EQ(c.info().sha1_thumbprint.size(), 40u);
}

TEST(TrustBundle, MissingFileIsAStorageError) {
  auto trust = load_trust_bundle("/nonexistent/certagent/bundle.pem");
  ASSERT_FALSE(trust);
  EXPECT_EQ(trust.error().kind, ErrorKind::Storage);
  EXPECT_NE(trust.error().message.find("/nonexistent/certagent/bundle.pem"), std::string::npos);
}

TEST(TrustBundle, PrivateKeyBlockIsRefusedEvenWithCommentsAllowed) {
  auto key = new_key();
  TestCa root;
  auto trust = parse_trust_bundle(root.pem() + must(key.to_pem()));
  ASSERT_FALSE(trust);
  EXPECT_NE(trust.error().message.find("'PRIVATE KEY'"), std::string::npos) << trust.error().message;
}

}  // namespace
}  // namespace certagent::protocol
