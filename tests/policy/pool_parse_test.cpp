// The "pool" section (docs/pool.md): what it reads, its defaults, which certificates are
// pool-wide, and every error at its file:line:column.
#include <gtest/gtest.h>

#include "policy/parse.hpp"
#include "policy/required.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

// A Lync Enterprise Edition member, its purposes on separate certificates, and a pool section.
std::string member_policy(std::string_view pool) {
  return std::string(R"({
"ca": {"directory": "https://ca.contoso.net/acme/directory"},
"sip_domains": ["contoso.com"],
"roles": [{"role": "front-end-enterprise", "id": "fe", "server_fqdn": "fe01.contoso.net",
           "pool_fqdn": "pool.contoso.net", "layout": "separate"}],
"pool": )") + std::string(pool) + "\n}\n";
}

const std::string kEtcd = R"("etcd": {"endpoints": ["https://etcd1.contoso.net:2379", "https://etcd2.contoso.net:2379"],
  "trust_bundle": "/etc/certagent/etcd-ca.pem", "client_certificate": "/etc/certagent/etcd.pem",
  "client_key": "/etc/certagent/etcd.key"})";

std::string pool_of(std::string_view extra) {
  return R"({"name": "fe-pool", "member": "fe01", )" + kEtcd + R"(, "key_file": "/etc/certagent/pool.key")" +
         std::string(extra) + "}";
}

TEST(PoolPolicy, ReadsTheSectionWithItsDefaults) {
  auto p = parse_policy(member_policy(pool_of("")), "p.json");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(p->pool);
  EXPECT_EQ(p->pool->name, "fe-pool");
  EXPECT_EQ(p->pool->member, "fe01");
  EXPECT_EQ(p->pool->prefix, "/certagent/fe-pool");
  EXPECT_EQ(p->pool->lease_ttl, std::chrono::seconds(10));
  EXPECT_EQ(p->pool->etcd.endpoints.size(), 2u);
  EXPECT_EQ(p->pool->etcd.client_key, "/etc/certagent/etcd.key");
  EXPECT_FALSE(p->pool->certificates);
}

TEST(PoolPolicy, DefaultPoolWideSetLeavesTheServersOwnCertificate) {
  auto p = parse_policy(member_policy(pool_of("")), "p.json");
  ASSERT_TRUE(p) << p.error().message;
  std::map<std::string, bool> wide;
  for (const auto& c : required_certificates(*p)) wide[c.id] = is_pool_wide(*p, c);
  EXPECT_EQ(wide, (std::map<std::string, bool>{{"fe-default", false},
                                               {"fe-webservicesinternal", false},
                                               {"fe-webservicesexternal", true}}))
      << "Default and WebServicesInternal carry fe01.contoso.net (rule 'server'): per member";
}

TEST(PoolPolicy, AnExplicitListIsTheSet) {
  auto p = parse_policy(member_policy(pool_of(R"(, "certificates": ["fe-webservicesexternal"], "lease_ttl": "30s",
                                                  "prefix": "/lync/fe-pool")")), "p.json");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->pool->prefix, "/lync/fe-pool");
  EXPECT_EQ(p->pool->lease_ttl, std::chrono::seconds(30));
  for (const auto& c : required_certificates(*p)) EXPECT_EQ(is_pool_wide(*p, c), c.id == "fe-webservicesexternal") << c.id;
}

TEST(PoolPolicy, NoPoolNothingIsPoolWide) {
  auto p = parse_policy(test::lync_policy(), "p.json");
  ASSERT_TRUE(p) << p.error().message;
  for (const auto& c : required_certificates(*p)) EXPECT_FALSE(is_pool_wide(*p, c));
}

struct PoolError {
  const char* name;
  std::string pool;  // the pool section
  std::string at;    // the error points at the first occurrence of this text (after "\"pool\": ")
  std::string path;
  std::string says;
};

TEST(PoolPolicy, ErrorsPointAtTheValueAndSayTheFix) {
  const std::vector<PoolError> cases = {
      {"no member", R"({"name": "p", )" + kEtcd + R"(, "key_file": "/k"})", "{\"name\": \"p\"", "pool",
       "missing required key 'member'"},
      {"no key file", R"({"name": "p", "member": "a", )" + kEtcd + "}", "{\"name\": \"p\"", "pool",
       "missing required key 'key_file'"},
      {"upper-case pool name", pool_of("").replace(9, 9, "\"FE Pool\""), "\"FE Pool\"", "pool.name",
       "is not a pool name"},
      {"member with a slash", pool_of("").replace(pool_of("").find("\"fe01\""), 6, "\"fe/01\""), "\"fe/01\"",
       "pool.member", "is not a member name"},
      {"plain http",
       R"({"name": "p", "member": "a", "etcd": {"endpoints": ["http://127.0.0.1:2379"]}, "key_file": "/k"})",
       "\"http://127", "pool.etcd.endpoints[0]", "is plain http://; etcd holds the pool's certificates"},
      {"endpoint without a port",
       R"({"name": "p", "member": "a", "etcd": {"endpoints": ["https://etcd1"], "trust_bundle": "/ca"}, "key_file": "/k"})",
       "\"https://etcd1\"", "pool.etcd.endpoints[0]", "is not an etcd endpoint"},
      {"no endpoints", R"({"name": "p", "member": "a", "etcd": {"endpoints": []}, "key_file": "/k"})", "[]",
       "pool.etcd.endpoints", "is empty"},
      {"https without a trust bundle",
       R"({"name": "p", "member": "a", "etcd": {"endpoints": ["https://e:2379"]}, "key_file": "/k"})",
       "{\"endpoints\"", "pool.etcd", "missing required key 'trust_bundle'"},
      {"a client certificate without its key",
       R"({"name": "p", "member": "a", "etcd": {"endpoints": ["https://127.0.0.1:2379"], "trust_bundle": "/ca", "client_certificate": "/c"}, "key_file": "/k"})",
       "\"client_certificate\"", "pool.etcd.client_certificate", "give both"},
      {"relative key file", pool_of("").replace(pool_of("").find("\"/etc/certagent/pool.key\""), 25, "\"pool.key\""),
       "\"pool.key\"", "pool.key_file", "not an absolute path"},
      {"unknown certificate id", pool_of(R"(, "certificates": ["fe-webservices"])"), "\"fe-webservices\"",
       "pool.certificates[0]", "no certificate of this policy has the id 'fe-webservices'"},
      {"prefix with a trailing slash", pool_of(R"(, "prefix": "/certagent/")"), "\"/certagent/\"", "pool.prefix",
       "is not a key prefix"},
      {"lease too short", pool_of(R"(, "lease_ttl": "1s")"), "\"1s\"", "pool.lease_ttl", "out of range"},
      {"unknown key", pool_of(R"(, "lease": "10s")"), "\"lease\"", "pool.lease", "unknown key 'lease'"},
  };
  for (const auto& c : cases) {
    const std::string text = member_policy(c.pool);
    auto p = parse_policy(text, "p.json");
    ASSERT_FALSE(p) << c.name;
    // the needle's first occurrence in the pool section (location_of counts from the start)
    const auto at = text.find(c.at, text.find("\"pool\": "));
    ASSERT_NE(at, std::string::npos) << c.name;
    int line = 1, column = 1;
    for (std::size_t i = 0; i < at; ++i) {
      if (text[i] == '\n') ++line, column = 1;
      else ++column;
    }
    const std::string located = "p.json:" + std::to_string(line) + ":" + std::to_string(column) + ": " + c.path + ": ";
    EXPECT_EQ(p.error().message.substr(0, located.size()), located) << c.name << ": " << p.error().message;
    EXPECT_NE(p.error().message.find(c.says), std::string::npos) << c.name << ": " << p.error().message;
  }
}

}  // namespace
}  // namespace certagent::policy
