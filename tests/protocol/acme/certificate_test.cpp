#include <gtest/gtest.h>

#include "acme_fakes.hpp"
#include "protocol/acme/certificate.hpp"
#include "protocol/acme/issue.hpp"
#include "protocol/x509/csr.hpp"
#include "support/test_pki.hpp"

namespace certagent::protocol {
namespace {
using namespace testing;
using namespace certagent::testing::pki;
using namespace std::chrono_literals;

constexpr const char* kPemChain = "application/pem-certificate-chain";

class CertificateTest : public AccountSessionTest {
 protected:
  TestCa root{"Pebble Root"};
  TestCa intermediate = root.intermediate("Pebble Intermediate");
  TestCa alt_root{"Alternate Root"};
  TestCa alt_intermediate = alt_root.intermediate("Alternate Intermediate");
  PrivateKey key = new_key();

  void SetUp() override {
    time.t = std::chrono::system_clock::now();  // the test certificates are valid now
    AccountSessionTest::SetUp();
  }
  Certificate leaf(const TestCa& ca, std::vector<std::string> names, const PrivateKey& for_key) {
    CertSpec spec;
    spec.dns_names = std::move(names);
    return ca.issue(for_key, spec);
  }
  std::string pem_of(const Certificate& c) { return must(c.pem()); }
  CertificateChain chain_of(std::string pem) {
    return CertificateChain{"https://ca.test/cert/1", must(parse_pem_chain(pem)), {}};
  }
};

TEST_F(CertificateTest, DownloadsAndParsesThePemChainWithAlternates) {
  std::string pem = pem_of(leaf(intermediate, {"a.example"}, key)) + pem_of(intermediate.certificate());
  net.add(Method::Post, "https://ca.test/cert/1",
          reply(200, pem, kPemChain,
                {{"Link", R"(<https://ca.test/cert/1/1>;rel="alternate")"}, {"Link", R"(<http://ca.test/x>;rel="alternate")"}}));
  auto chain = download_chain(*session, "https://ca.test/cert/1");
  ASSERT_TRUE(chain) << chain.error().message;
  EXPECT_EQ(chain->certificates.size(), 2u);
  EXPECT_EQ(chain->alternates, (std::vector<std::string>{"https://ca.test/cert/1/1"}));  // http:// is never followed
  EXPECT_EQ(top_issuer_cn(*chain), "Pebble Root");
}

TEST_F(CertificateTest, WrongContentTypeIsRefused) {
  net.add(Method::Post, "https://ca.test/cert/1", reply(200, pem_of(leaf(intermediate, {"a.example"}, key)), "text/plain"));
  auto chain = download_chain(*session, "https://ca.test/cert/1");
  ASSERT_FALSE(chain);
  EXPECT_EQ(chain.error().kind, ErrorKind::Protocol);
  EXPECT_NE(chain.error().message.find("not application/pem-certificate-chain"), std::string::npos);
}

TEST_F(CertificateTest, ChainWithAPrivateKeyBlockIsRefused) {
  std::string pem = pem_of(leaf(intermediate, {"a.example"}, key)) + must(key.to_pem());
  net.add(Method::Post, "https://ca.test/cert/1", reply(200, pem, kPemChain));
  auto chain = download_chain(*session, "https://ca.test/cert/1");
  ASSERT_FALSE(chain);
  EXPECT_NE(chain.error().message.find("downloading the certificate"), std::string::npos);
}

TEST_F(CertificateTest, PrefersTheChainWhoseTopIssuerMatches) {
  std::string main_pem = pem_of(leaf(intermediate, {"a.example"}, key)) + pem_of(intermediate.certificate());
  std::string alt_pem = pem_of(leaf(alt_intermediate, {"a.example"}, key)) + pem_of(alt_intermediate.certificate());
  net.add(Method::Post, "https://ca.test/cert/1",
          reply(200, main_pem, kPemChain, {{"Link", R"(<https://ca.test/cert/1/1>;rel="alternate")"}}));
  net.add(Method::Post, "https://ca.test/cert/1/1", reply(200, alt_pem, kPemChain));
  auto chain = download_preferred_chain(*session, "https://ca.test/cert/1", "Alternate Root");
  ASSERT_TRUE(chain) << chain.error().message;
  EXPECT_EQ(chain->url, "https://ca.test/cert/1/1");
  EXPECT_EQ(top_issuer_cn(*chain), "Alternate Root");
}

TEST_F(CertificateTest, DefaultChainWhenNothingMatchesAndNoAlternateFetchedWhenDefaultMatches) {
  std::string main_pem = pem_of(leaf(intermediate, {"a.example"}, key)) + pem_of(intermediate.certificate());
  net.add(Method::Post, "https://ca.test/cert/1",
          reply(200, main_pem, kPemChain, {{"Link", R"(<https://ca.test/cert/1/1>;rel="alternate")"}}));
  auto chain = download_preferred_chain(*session, "https://ca.test/cert/1", "Pebble Root");
  ASSERT_TRUE(chain);
  EXPECT_TRUE(net.script.empty());
  EXPECT_EQ(net.sent.size(), 3u);  // directory, nonce, one download
}

TEST_F(CertificateTest, VerifyAcceptsOurKeyAndOurNames) {
  auto chain = chain_of(pem_of(leaf(intermediate, {"b.example", "a.example"}, key)) + pem_of(intermediate.certificate()));
  auto ok = verify_issued(chain, key, {"A.example", "b.example"}, time.now());
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST_F(CertificateTest, VerifyRefusesACertificateForAnotherKey) {
  auto other = new_key();
  auto chain = chain_of(pem_of(leaf(intermediate, {"a.example"}, other)) + pem_of(intermediate.certificate()));
  auto r = verify_issued(chain, key, {"a.example"}, time.now());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not for our key"), std::string::npos);
}

TEST_F(CertificateTest, VerifyRefusesOtherNames) {
  auto chain = chain_of(pem_of(leaf(intermediate, {"a.example", "evil.example"}, key)));
  auto r = verify_issued(chain, key, {"a.example"}, time.now());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not the 1 names of the order"), std::string::npos);
}

TEST_F(CertificateTest, VerifyRefusesAnExpiredCertificate) {
  CertSpec spec;
  spec.dns_names = {"a.example"};
  spec.not_before = time.now() - 48h;
  spec.not_after = time.now() - 1h;
  auto chain = chain_of(pem_of(intermediate.issue(key, spec)));
  auto r = verify_issued(chain, key, {"a.example"}, time.now());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not valid now"), std::string::npos);
}

TEST_F(CertificateTest, VerifyRefusesAChainThatDoesNotLinkUp) {
  auto chain = chain_of(pem_of(leaf(intermediate, {"a.example"}, key)) + pem_of(alt_intermediate.certificate()));
  auto r = verify_issued(chain, key, {"a.example"}, time.now());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not issued by the next one"), std::string::npos);
}

// A CA sends the same intermediate with every chain: the session parses it once,
// and every chain is still checked link by link.
TEST_F(CertificateTest, TheSameIntermediateIsParsedOnceAcrossDownloads) {
  for (int i = 0; i < 3; ++i) {
    const std::string url = "https://ca.test/cert/" + std::to_string(i);
    net.add(Method::Post, url, reply(200, pem_of(leaf(intermediate, {"a.example"}, key)) + pem_of(intermediate.certificate()), kPemChain));
    auto chain = download_chain(*session, url);
    ASSERT_TRUE(chain) << chain.error().message;
    ASSERT_EQ(chain->certificates.size(), 2u);
    EXPECT_EQ(chain->certificates[1].info().sha256_fingerprint, intermediate.certificate().info().sha256_fingerprint);
    auto checked = verify_issued(*chain, key, {"a.example"}, time.now());
    EXPECT_TRUE(checked) << checked.error().message;
  }
  EXPECT_EQ(session->intermediates().parsed(), 1u);
}

// What the session remembers never stands in for a check: after a good chain, a
// leaf from another CA with the remembered intermediate is refused, and so is
// our leaf with an intermediate that did not issue it.
TEST_F(CertificateTest, ARememberedIntermediateDoesNotMakeAMismatchedChainPass) {
  const std::string good = pem_of(leaf(intermediate, {"a.example"}, key)) + pem_of(intermediate.certificate());
  const std::string foreign_leaf = pem_of(leaf(alt_intermediate, {"a.example"}, key)) + pem_of(intermediate.certificate());
  const std::string foreign_top = pem_of(leaf(intermediate, {"a.example"}, key)) + pem_of(alt_intermediate.certificate());
  net.add(Method::Post, "https://ca.test/cert/1", reply(200, good, kPemChain));
  net.add(Method::Post, "https://ca.test/cert/2", reply(200, foreign_leaf, kPemChain));
  net.add(Method::Post, "https://ca.test/cert/3", reply(200, foreign_top, kPemChain));
  auto first = download_chain(*session, "https://ca.test/cert/1");
  ASSERT_TRUE(first && verify_issued(*first, key, {"a.example"}, time.now()));
  for (const char* url : {"https://ca.test/cert/2", "https://ca.test/cert/3"}) {
    auto chain = download_chain(*session, url);
    ASSERT_TRUE(chain) << chain.error().message;
    auto r = verify_issued(*chain, key, {"a.example"}, time.now());
    ASSERT_FALSE(r) << url;
    EXPECT_NE(r.error().message.find("not issued by the next one"), std::string::npos) << r.error().message;
  }
}

TEST(CertificateMemo, HoldsAtMostItsLimitAndRefusesWhatDoesNotParse) {
  CertificateMemo memo;
  std::vector<TestCa> cas;
  for (size_t i = 0; i < CertificateMemo::kMaxEntries + 2; ++i) cas.emplace_back("CA " + std::to_string(i));
  for (const auto& ca : cas) ASSERT_TRUE(memo.from_der(must(ca.certificate().der())));
  EXPECT_EQ(memo.parsed(), cas.size());
  ASSERT_TRUE(memo.from_der(must(cas.back().certificate().der())));  // remembered
  EXPECT_EQ(memo.parsed(), cas.size());
  ASSERT_TRUE(memo.from_der(must(cas.front().certificate().der())));  // the oldest went first
  EXPECT_EQ(memo.parsed(), cas.size() + 1);
  std::string bad = must(cas[3].certificate().der());
  bad.back() = static_cast<char>(bad.back() ^ 0x01);  // a signature bit: still DER, another certificate
  auto other = memo.from_der(bad);
  ASSERT_TRUE(other);
  EXPECT_NE(other->info().sha256_fingerprint, cas[3].certificate().info().sha256_fingerprint);
  EXPECT_FALSE(memo.from_der(bad.substr(0, bad.size() - 5)));
}

}  // namespace
}  // namespace certagent::protocol

namespace certagent::protocol {
namespace {

std::string order_json(const std::string& status, const std::string& extra = "") {
  return R"({"status":")" + status + R"(","identifiers":[{"type":"dns","value":"a.example"},{"type":"dns","value":"b.example"}],)"
         R"("authorizations":["https://ca.test/authz/a","https://ca.test/authz/b"],"finalize":"https://ca.test/fin/1")" +
         extra + "}";
}
std::string authz_json(const std::string& name) {
  return R"({"status":"pending","identifier":{"type":"dns","value":")" + name +
         R"("},"challenges":[{"type":"http-01","url":"https://ca.test/chal/)" + name + R"(","status":"pending","token":"tok-)" +
         name.substr(0, 1) + "\"}]}";
}

class IssueTest : public CertificateTest {
 protected:
  RecordingSolver solver;
  void script_until_download(const std::string& cert_pem) {
    net.add(Method::Post, "https://ca.test/order",
            reply(201, order_json("pending"), "application/json", {{"Location", "https://ca.test/o/1"}}));
    net.add(Method::Post, "https://ca.test/authz/a", reply(200, authz_json("a.example")));
    net.add(Method::Post, "https://ca.test/authz/b", reply(200, authz_json("b.example")));
    net.add(Method::Post, "https://ca.test/chal/a.example", reply(200, "{}"));
    net.add(Method::Post, "https://ca.test/chal/b.example", reply(200, "{}"));
    net.add(Method::Post, "https://ca.test/o/1", reply(200, order_json("ready")));
    net.add(Method::Post, "https://ca.test/fin/1", reply(200, order_json("processing")));
    net.add(Method::Post, "https://ca.test/o/1", reply(200, order_json("valid", R"(,"certificate":"https://ca.test/cert/1")")));
    net.add(Method::Post, "https://ca.test/cert/1", reply(200, cert_pem, kPemChain));
  }
};

TEST_F(IssueTest, OneIssuanceEndToEndWithTheCsrForExactlyTheOrderNames) {
  auto cert_key = std::make_shared<const PrivateKey>(new_key());
  script_until_download(pem_of(leaf(intermediate, {"a.example", "b.example"}, *cert_key)) +
                        pem_of(intermediate.certificate()));
  IssueRequest request;
  request.names = {"a.example", "b.example"};
  request.certificate_key = cert_key;
  auto issued = issue_certificate(*session, request, solver);
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(issued->key, cert_key);
  EXPECT_EQ(solver.presented.size(), 2u);
  EXPECT_EQ(solver.cleaned.size(), 2u);
  EXPECT_EQ(issued->fullchain_pem, issued->certificate_pem + issued->chain_pem);
  EXPECT_EQ(issued->chain_pem, pem_of(intermediate.certificate()));
  // The CSR sent names exactly the order's identifiers.
  std::string csr_b64;
  for (const auto& req : net.sent)
    if (req.url == "https://ca.test/fin/1")
      csr_b64 = std::string(boost::json::parse(decode_jws(req.body).payload).as_object()["csr"].as_string());
  auto der = *base64url_decode(csr_b64);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::X509Req csr(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(csr);
  ossl::X509ExtStack exts(X509_REQ_get_extensions(csr.get()));
  ossl::GeneralNames sans(static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts.get(), NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(sans);
  EXPECT_EQ(sk_GENERAL_NAME_num(sans.get()), 2);
  EXPECT_EQ(net.sent.size(), 11u);  // directory, nonce, order, 2 authz, 2 answers, 1 look, finalize, 1 look, download
}

TEST_F(IssueTest, ACertificateForAnotherKeyIsRefused) {
  auto cert_key = std::make_shared<const PrivateKey>(new_key());
  auto other = new_key();
  script_until_download(pem_of(leaf(intermediate, {"a.example", "b.example"}, other)));
  IssueRequest request;
  request.names = {"a.example", "b.example"};
  request.certificate_key = cert_key;
  auto issued = issue_certificate(*session, request, solver);
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().kind, ErrorKind::Protocol);
  EXPECT_NE(issued.error().message.find("not for our key"), std::string::npos);
}

TEST_F(IssueTest, GeneratesTheCertificateKeyWhenNoneIsGivenAndRefusesAForeignCertificate) {
  script_until_download(pem_of(leaf(intermediate, {"a.example", "b.example"}, key)));
  IssueRequest request;
  request.names = {"a.example", "b.example"};
  request.key_type = KeyType::EcP384;
  auto issued = issue_certificate(*session, request, solver);
  ASSERT_FALSE(issued);  // the CA's certificate is for `key`, not the freshly generated one
  EXPECT_NE(issued.error().message.find("not for our key"), std::string::npos);
}

}  // namespace
}  // namespace certagent::protocol
