// Per-purpose output files through the real binary against pebble: written
// after `run --once`, restored byte for byte when a hook of the shared
// certificate fails, and a symlink at an output path refused before
// anything is bound.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "agent/store/fsutil.hpp"
#include "engine_support.hpp"
#include "protocol/x509/pkcs12.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::integration {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string describe(const ProcessOutcome& r) { return "stdout:\n" + r.out + "\nstderr:\n" + r.err; }

std::string read(const fs::path& p) { return agent::fsutil::read_file(p).value_or("<unreadable>"); }

std::string thumbprint_in(const fs::path& pem) {
  auto chain = protocol::parse_pem_chain(read(pem));
  return chain ? chain->front().info().sha1_thumbprint : "<not a certificate>";
}

struct OutputsBox {
  EngineSandbox box;
  fs::path out = box.dir() / "out";
  fs::path password = box.dir() / "p12-password";
  PoolPolicy policy = pool("shared");

  OutputsBox() {
    fs::create_directory(out);
    std::ofstream(password) << "pebble-p12\n";
    policy.outputs["Default"] = {{"pkcs12", (out / "default.p12").string()},
                                 {"pkcs12_password_file", password.string()}};
    policy.outputs["WebServicesExternal"] = {{"combined_pem", (out / "wse-combined.pem").string()},
                                             {"cert", (out / "wse-cert.pem").string()},
                                             {"key", (out / "wse.key").string()}};
    box.write_policy(policy);
  }
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> m;
    for (const auto& e : fs::directory_iterator(out)) m[e.path().filename().string()] = read(e.path());
    return m;
  }
};

TEST(EngineOutputs, RunOnceWritesEveryOutputOfTheBoundCertificate) {
  OutputsBox o;
  auto r = o.box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string bound = thumbprint_of(o.box.certs().at("WebServicesExternal"));
  EXPECT_EQ(thumbprint_in(o.out / "wse-cert.pem"), bound);
  auto key = protocol::PrivateKey::from_pem(read(o.out / "wse.key"));
  ASSERT_TRUE(key) << key.error().message;
  const std::string combined = read(o.out / "wse-combined.pem");
  const auto key_at = combined.find("-----BEGIN PRIVATE KEY-----");
  ASSERT_NE(key_at, std::string::npos) << "the combined PEM ends with the key";
  EXPECT_EQ(combined.substr(key_at), read(o.out / "wse.key"));
  auto combined_chain = protocol::parse_pem_chain(combined.substr(0, key_at));
  ASSERT_TRUE(combined_chain) << combined_chain.error().message;
  EXPECT_EQ(combined_chain->front().info().sha1_thumbprint, bound);
  EXPECT_GE(combined_chain->size(), 2u) << "leaf and chain";
  auto p12 = protocol::read_pkcs12(read(o.out / "default.p12"), "pebble-p12");
  ASSERT_TRUE(p12) << p12.error().message;
  EXPECT_EQ(p12->leaf.info().sha1_thumbprint, bound) << "one certificate for all three purposes";
  EXPECT_EQ(EVP_PKEY_eq(p12->key.get(), key->get()), 1);
  EXPECT_FALSE(p12->chain.empty());
  EXPECT_EQ(o.snapshot().size(), 4u) << "no temporaries or backups left";
}

TEST(EngineOutputs, AFailingHookOfOnePurposeRestoresEveryPurposesOutputs) {
  OutputsBox o;
  ASSERT_EQ(o.box.certagent({"run", "--once"}).exit_code, 0);
  const auto before = o.snapshot();
  const std::string old_thumbprint = thumbprint_of(o.box.certs().at("Default"));

  o.policy.sip_domains.push_back("northwind.com");
  o.policy.hooks["WebServicesInternal"] = {o.box.make_hook("failing-hook", 9)};
  o.box.write_policy(o.policy);
  auto r = o.box.certagent({"run", "--once"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("rolled back"));
  for (const auto& [purpose, cert] : o.box.certs()) EXPECT_EQ(thumbprint_of(cert), old_thumbprint) << purpose;
  EXPECT_EQ(o.snapshot(), before) << "Default's and WebServicesExternal's files hold the old certificate again";
}

TEST(EngineOutputs, AnOutputAddedToThePolicyIsWrittenWithoutANewOrder) {
  OutputsBox o;
  ASSERT_EQ(o.box.certagent({"run", "--once"}).exit_code, 0);
  const auto orders = new_order_count(o.box.pebble());
  o.policy.outputs["WebServicesInternal"] = {{"fullchain", (o.out / "wsi-fullchain.pem").string()}};
  o.policy.hooks["WebServicesInternal"] = {o.box.make_hook("hook")};
  o.box.write_policy(o.policy);
  auto r = o.box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(new_order_count(o.box.pebble()), orders) << "the bound certificate is kept";
  EXPECT_EQ(thumbprint_in(o.out / "wsi-fullchain.pem"), thumbprint_of(o.box.certs().at("WebServicesInternal")));
  ASSERT_EQ(o.box.hook_log().size(), 1u) << "the consumer is told once";
  EXPECT_THAT(o.box.hook_log()[0], HasSubstr("WebServicesInternal bind "));
  auto again = o.box.certagent({"run", "--once"});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_EQ(o.box.hook_log().size(), 1u) << "nothing missing: nothing rewritten, no hook";
}

TEST(EngineOutputs, ASymlinkAtAnOutputPathStopsTheBindingAndNamesIt) {
  OutputsBox o;
  const fs::path victim = o.box.dir() / "victim";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, o.out / "wse.key");
  auto r = o.box.certagent({"run", "--once"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr((o.out / "wse.key").string() + " is a symbolic link"));
  EXPECT_TRUE(o.box.certs().at("WebServicesExternal").at("thumbprint").is_null()) << "nothing was bound";
  EXPECT_EQ(read(victim), "precious");
  EXPECT_FALSE(fs::exists(o.out / "default.p12")) << "no output of the step was written";
}

}  // namespace
}  // namespace certagent::integration
