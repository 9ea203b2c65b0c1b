// The engine end to end: `certagent run --once`, `certs`, `assign` against the
// fixture's pebble, for a Lync Front End Enterprise pool with two SIP domains.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "agent/store/fsutil.hpp"
#include "agent/store/store.hpp"
#include "protocol/x509/keys.hpp"
#include "engine_support.hpp"

namespace certagent::integration {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

const std::vector<std::string> kPurposes = {"Default", "WebServicesExternal", "WebServicesInternal"};

void expect_run_ok(const ProcessOutcome& r) {
  ASSERT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
}

TEST(Engine, SharedLayoutBindsOneCertificateToAllThreePurposesWithEveryName) {
  EngineSandbox box;
  box.write_policy({});
  expect_run_ok(box.certagent({"run", "--once"}));
  auto certs = box.certs();
  ASSERT_EQ(certs.size(), 3u);
  const std::string thumbprint = thumbprint_of(certs.at("Default"));
  ASSERT_EQ(thumbprint.size(), 40u);
  for (const auto& p : kPurposes) {
    EXPECT_EQ(thumbprint_of(certs.at(p)), thumbprint) << p;
    EXPECT_TRUE(certs.at(p).at("missing").as_array().empty()) << p;
    EXPECT_THAT(names_of(certs.at(p)),
                IsSupersetOf({"pool01.contoso.net", "fe01.contoso.net", "lyncdiscover.contoso.com",
                              "lyncdiscover.fabrikam.com", "lyncdiscoverinternal.contoso.com",
                              "lyncdiscoverinternal.fabrikam.com", "webpool01.contoso.com", "meet.contoso.com"}));
  }
  // A second pass has nothing to do: no ACME request at all.
  auto before = box.pebble().request_count();
  expect_run_ok(box.certagent({"run", "--once"}));
  EXPECT_EQ(box.pebble().request_count().value(), before.value());
  EXPECT_EQ(thumbprint_of(box.certs().at("Default")), thumbprint);
}

// The RSA key is generated on another thread while the authorizations are
// answered, journaled before finalize, and is the key of the stored certificate.
TEST(Engine, AnRsaKeyGeneratedAlongsideTheAuthorizationsIsTheStoredCertificatesKey) {
  EngineSandbox box;
  PoolPolicy p;
  p.key = "rsa-2048";
  box.write_policy(p);
  expect_run_ok(box.certagent({"run", "--once"}));
  auto store = agent::Store::open(box.state());
  ASSERT_TRUE(store) << store.error().message;
  auto bound = store->binding("Default");
  ASSERT_TRUE(bound && *bound);
  auto version = store->verify_version((*bound)->version_id);
  ASSERT_TRUE(version) << version.error().message << " (the key matches the certificate)";
  auto pem = agent::fsutil::read_file(version->dir() / "privkey.pem", 64 * 1024);
  ASSERT_TRUE(pem) << pem.error().message;
  auto key = protocol::PrivateKey::from_pem(*pem);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->type(), protocol::KeyType::Rsa2048);
  EXPECT_FALSE(std::filesystem::exists(box.state() / "orders" / "front-end.json")) << "the journal is removed";
}

TEST(Engine, SeparateLayoutGivesEachPurposeItsOwnCertificateAndNames) {
  EngineSandbox box;
  box.write_policy(pool("separate"));
  expect_run_ok(box.certagent({"run", "--once"}));
  auto certs = box.certs();
  std::vector<std::string> thumbprints;
  for (const auto& p : kPurposes) {
    thumbprints.push_back(thumbprint_of(certs.at(p)));
    EXPECT_TRUE(certs.at(p).at("missing").as_array().empty()) << p;
  }
  std::sort(thumbprints.begin(), thumbprints.end());
  EXPECT_EQ(std::unique(thumbprints.begin(), thumbprints.end()), thumbprints.end()) << "three distinct certificates";
  auto external = names_of(certs.at("WebServicesExternal"));
  auto internal = names_of(certs.at("WebServicesInternal"));
  EXPECT_THAT(external, IsSupersetOf({"lyncdiscover.contoso.com", "lyncdiscover.fabrikam.com"}));
  EXPECT_THAT(external, Not(Contains("lyncdiscoverinternal.contoso.com")));
  EXPECT_THAT(internal, IsSupersetOf({"lyncdiscoverinternal.contoso.com", "lyncdiscoverinternal.fabrikam.com"}));
  EXPECT_THAT(internal, Not(Contains("lyncdiscover.contoso.com")));
  EXPECT_THAT(names_of(certs.at("Default")), Not(Contains("lyncdiscover.contoso.com")));
}

TEST(Engine, APassOpensTheCaOnceForAllItsOrders) {
  EngineSandbox box;
  box.write_policy(pool("separate"));  // three certificates, a new account
  const auto dirs = handled_count(box.pebble(), "GET /dir");
  const auto nonces = handled_count(box.pebble(), "HEAD /nonce-plz");
  const auto orders = new_order_count(box.pebble());
  expect_run_ok(box.certagent({"run", "--once"}));
  // At least three: pebble logs a newOrder it rejects with badNonce (5% here) too.
  EXPECT_GE(new_order_count(box.pebble()), orders + 3);
  EXPECT_EQ(box.certs().size(), 3u);
  EXPECT_EQ(handled_count(box.pebble(), "GET /dir"), dirs + 1) << "one directory request for the account and all orders";
  // One nonce for the account; after that each worker (at most one per order) may need one
  // while the shared pool is empty; every Replay-Nonce is reused.
  EXPECT_LE(handled_count(box.pebble(), "HEAD /nonce-plz"), nonces + 4);
}

TEST(Engine, TheCasConcurrencyBoundsTheOrdersAtOnce) {
  for (const int concurrency : {1, 0}) {  // 0: not in the policy, the default (4)
    EngineSandbox box;
    auto p = pool("separate");  // three certificates
    p.concurrency = concurrency;
    box.write_policy(p);
    const auto r = box.certagent({"run", "--once"});
    expect_run_ok(r);
    EXPECT_EQ(box.certs().size(), 3u);
    const std::string expected = concurrency == 1 ? "ordering 3 certificate(s), 1 at once (ca.concurrency 1)"
                                                  : "ordering 3 certificate(s), 3 at once (ca.concurrency 4)";
    EXPECT_THAT(r.err + r.out, HasSubstr(expected));
  }
}

TEST(Engine, AssignRefusesACertificateLackingTheLyncdiscoverNamesForWebServicesExternal) {
  EngineSandbox box;
  box.write_policy(pool("separate"));
  expect_run_ok(box.certagent({"run", "--once"}));
  auto certs = box.certs();
  const std::string default_cert = thumbprint_of(certs.at("Default"));
  const std::string external_cert = thumbprint_of(certs.at("WebServicesExternal"));
  auto r = box.certagent({"assign", "--type", "WebServicesExternal", "--thumbprint", default_cert});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("WebServicesExternal lacks"));
  EXPECT_THAT(r.err, HasSubstr("lyncdiscover.contoso.com"));
  EXPECT_THAT(r.err, HasSubstr("lyncdiscover.fabrikam.com"));
  EXPECT_EQ(thumbprint_of(box.certs().at("WebServicesExternal")), external_cert) << "binding unchanged";
  // --force binds anyway (and says so); `certs` then shows what is missing.
  auto forced = box.certagent({"assign", "--type", "WebServicesExternal", "--thumbprint", default_cert, "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_THAT(forced.err, HasSubstr("FORCED"));
  auto after = box.certs().at("WebServicesExternal");
  EXPECT_EQ(thumbprint_of(after), default_cert);
  EXPECT_FALSE(after.at("missing").as_array().empty());
  // An unknown thumbprint is refused, naming it.
  auto unknown = box.certagent({"assign", "--type", "Default", "--thumbprint", std::string(40, 'A')});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr(std::string(40, 'A')));
}

}  // namespace
}  // namespace certagent::integration
