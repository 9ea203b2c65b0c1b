// docs/examples/front-end-outputs.json, bound for real: one certificate,
// three purposes, every output the example names written under a temporary
// root with the example's modes, and the PKCS#12 bundle opening with no
// password.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/engine/consumers.hpp"
#include "agent/store/fsutil.hpp"
#include "policy/parse.hpp"
#include "protocol/x509/pkcs12.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using testing::make_cert;
using testing::TempDir;

policy::Policy example() {
  std::ifstream in(fs::path(CERTAGENT_SOURCE_DIR) / "docs/examples/front-end-outputs.json");
  std::stringstream text;
  text << in.rdbuf();
  auto p = policy::parse_policy(text.str(), "front-end-outputs.json");
  if (!p) throw std::runtime_error(p.error().message);
  return *p;
}

// The example's consumers with every path moved under `root` (its
// directories created), the hooks replaced by /bin/true and no systemd unit
// reloaded (units_test and integration.consumer_reload cover those).
std::map<std::string, PurposeConsumers> rooted(const policy::Policy& p, const fs::path& root) {
  auto consumers = consumers_from_policy(p);
  for (auto& [purpose, c] : consumers) {
    for (auto& h : c.hooks) h.argv = {"/bin/true"};
    c.units.clear();
    for (auto& o : c.outputs) {
      o.path = root / o.path.relative_path();
      fs::create_directories(o.path.parent_path());
      if (!o.group.empty()) o.group = std::to_string(::getegid());  // "haproxy" need not exist here
    }
  }
  return consumers;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(OutputsExample, EveryOutputOfTheExampleIsWrittenWithItsMode) {
  const auto policy = example();
  EXPECT_EQ(policy.outputs.at("WebServicesExternal").group, "haproxy");
  EXPECT_EQ(policy.outputs.at("WebServicesExternal").reload_units, std::vector<std::string>{"haproxy.service"});
  TempDir t;
  auto store = Store::open(t.path() / "state", {.write = true});
  ASSERT_TRUE(store) << store.error().message;
  auto c = make_cert({"lyncse01.contoso.net"});
  auto id = store->add_version({c.key_pem, c.leaf_pem, c.chain_pem, {}});
  ASSERT_TRUE(id) << id.error().message;
  const std::vector<std::string> purposes = {"Default", "WebServicesInternal", "WebServicesExternal"};
  auto outcomes = rebind(*store, purposes, *id, rooted(policy, t.path() / "root"));
  ASSERT_TRUE(outcomes) << outcomes.error().message;
  for (const auto& o : *outcomes) EXPECT_TRUE(o.succeeded()) << o.purpose << ": " << o.failure->message;

  const fs::path root = t.path() / "root";
  EXPECT_EQ(*fsutil::read_file(root / "etc/lync/certs/default-cert.pem"), c.leaf_pem);
  EXPECT_EQ(*fsutil::read_file(root / "etc/lync/certs/default-chain.pem"), c.chain_pem);
  EXPECT_EQ(mode_of(root / "etc/lync/certs/default.key"), 0600u);
  EXPECT_EQ(mode_of(root / "etc/lync/certs/default-cert.pem"), 0644u);
  EXPECT_EQ(mode_of(root / "etc/haproxy/certs/lyncweb.pem"), 0640u) << "a group makes the key 0640";
  EXPECT_EQ(mode_of(root / "etc/haproxy/certs/lyncweb-fullchain.pem"), 0644u);
  auto der = fsutil::read_file(root / "etc/lync/certs/webservices-internal.p12");
  ASSERT_TRUE(der);
  auto p12 = protocol::read_pkcs12(*der, "");
  ASSERT_TRUE(p12) << p12.error().message;
  EXPECT_EQ(*p12->leaf.pem(), c.leaf_pem);
  EXPECT_EQ(p12->chain.size(), 1u);
}

}  // namespace
}  // namespace certagent::agent
