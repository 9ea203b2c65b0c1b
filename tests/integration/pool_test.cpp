// Pools (issue 21, docs/pool.md): three members of a Lync Front End pool, each a real
// `certagent run --once`, against pebble and a real three-member etcd cluster with TLS and
// client certificates. Run as the CTest test integration.pool: tests/integration/etcd-ctl
// starts etcd in a private network namespace and tests/integration/with-pebble a pebble in it.
//
// Every case counts the orders pebble created ("Added order" in its log): the pool-wide
// certificates are ordered once for the pool, the per-member Default certificates once each.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "agent/engine/system_waiter.hpp"
#include "common/process.hpp"
#include "common/text.hpp"
#include "engine_support.hpp"
#include "protocol/etcd/client.hpp"

namespace certagent::integration {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::map<std::string, std::string> read_env(const std::string& file) {
  std::ifstream in(file);
  std::map<std::string, std::string> env;
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  if (env.empty()) throw std::runtime_error("cannot read " + file + ": run these tests through ctest (integration.pool)");
  return env;
}

std::map<std::string, std::string> etcd_env() {
  const char* dir = std::getenv("CERTAGENT_ETCD_DIR");
  if (dir == nullptr)
    throw std::runtime_error("CERTAGENT_ETCD_DIR is not set: run these tests through ctest (integration.pool), whose "
                             "tests/integration/etcd-ctl starts etcd");
  return read_env(std::string(dir) + "/etcd.env");
}

json::array split(const std::string& s) {
  json::array out;
  std::size_t start = 0;
  for (std::size_t comma; (comma = s.find(',', start)) != std::string::npos; start = comma + 1)
    out.emplace_back(s.substr(start, comma - start));
  out.emplace_back(s.substr(start));
  return out;
}

// A pool key file: the base64 of 32 bytes (42 characters, "A=": the last 2 bits are 0), mode 0600.
std::string make_key(const fs::path& file, char seed) {
  static constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  for (int i = 0; i < 42; ++i) text += kB64[(seed * 7 + i * 13) % 64];
  std::ofstream(file) << text << "A=\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  return file.string();
}

class Pool : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pebble_ = new PebbleEnv(require_pebble_env("default"));
    etcd_ = new std::map<std::string, std::string>(etcd_env());
  }
  static void TearDownTestSuite() {
    delete pebble_;
    delete etcd_;
  }

  void SetUp() override {
    prefix_ = "/certagent-test/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    shared_ = std::make_unique<EngineSandbox>(*pebble_);  // the pool key and the DNS hook
    for (int i = 1; i <= 3; ++i) members_.push_back(std::make_unique<EngineSandbox>(*pebble_));
    key_ = make_key(shared_->dir() / "pool.key", 'k');
    hook_ = (shared_->dir() / "dns-hook").string();
    // dns-01 through pebble-challtestsrv (every member has its own server name, so their
    // Default certificates are ordered at once without sharing an http-01 port).
    std::ofstream(hook_) << "#!/bin/sh\ncase \"$1\" in add) p=set-txt ;; *) p=clear-txt ;; esac\n"
                         << "exec curl -sf -X POST '" << pebble_->dns_management_url
                         << "'/$p -d \"{\\\"host\\\": \\\"$2.\\\", \\\"value\\\": \\\"$3\\\"}\"\n";
    fs::permissions(hook_, fs::perms::owner_all);
    for (int i = 0; i < 3; ++i) write_policy(i, {"contoso.com"});
  }

  [[nodiscard]] std::string member(std::size_t i) const { return fmt::format("fe0{}", i + 1); }

  [[nodiscard]] json::array server_names(std::size_t i, bool second) const {
    json::array names{json::object{{"name", member(i) + ".contoso.net"}, {"rule", "server"}}};
    if (second) names.emplace_back(json::object{{"name", member(i) + "-mgmt.contoso.net"}, {"rule", "server"}});
    return names;
  }

  // etcd-ctl VERB RUNDIR N (stop-member, start-member), inside the namespace.
  static void etcd_member(const char* verb, int n) {
    ProcessSpec spec;
    spec.argv = {etcd_->at("CTL"), verb, std::string(std::getenv("CERTAGENT_ETCD_DIR")), std::to_string(n)};
    spec.inherit_path = true;
    auto r = run_process(spec);
    if (!r || !r->succeeded()) throw std::runtime_error(std::string("etcd-ctl ") + verb + " failed");
  }

  // `web_only`: one custom role, one pool-wide certificate "web" (no per-member certificate), so
  // that a fault point in the order is reached in the pool's order.
  void write_policy(std::size_t i, const std::vector<std::string>& sip_domains, const std::string& key = "",
                    bool web_only = false, bool second_server_name = false) const {
    const auto& env = *etcd_;
    json::object policy{
        {"ca", json::object{{"directory", pebble_->directory_url}, {"trust_bundle", pebble_->tls_root}}},
        {"challenge", json::object{{"type", "dns-01"}, {"hook", hook_}}},
        {"sip_domains", json::array(sip_domains.begin(), sip_domains.end())},
        // Two certificates per member: "Server" carries the member's own name (the rule "server",
        // as a Lync preset marks server_fqdn): per member; "Web" the names every member serves:
        // the pool's. (Not the Lync preset itself: its per-member certificates share names —
        // pool01, sip.<domain> — and pebble-challtestsrv cannot serve three accounts validating
        // one name at once: one member's clear-txt removes the others' records.)
        {"roles", json::array{json::object{
                      {"role", "custom"},
                      {"id", "fe"},
                      {"layout", "separate"},
                      {"names", json::object{{"Server", server_names(i, second_server_name)},
                                             {"Web", json::array{"webpool01.contoso.com", "meet.contoso.com",
                                                                 "lyncdiscover.{sip_domains}"}}}}}}},
        {"pool", json::object{{"name", "fe-pool"},
                              {"member", member(i)},
                              {"prefix", prefix_},
                              {"etcd", json::object{{"endpoints", split(env.at("ENDPOINTS"))},
                                                    {"trust_bundle", env.at("CA_FILE")},
                                                    {"client_certificate", env.at("CLIENT_CERT")},
                                                    {"client_key", env.at("CLIENT_KEY")}}},
                              {"key_file", key.empty() ? key_ : key},
                              {"lease_ttl", "5s"}}}};
    if (web_only)
      policy["roles"] = json::array{json::object{
          {"role", "custom"}, {"id", "web"}, {"names", json::object{{"Web", json::array{"web.contoso.com", "pool01.contoso.com"}}}}}};
    members_[i]->replace_policy(json::serialize(policy) + "\n");
  }

  // `run --once` on the members given, all at once; their outcomes.
  std::vector<ProcessOutcome> run_all(std::vector<std::size_t> which = {0, 1, 2},
                                      const std::vector<std::string>& args = {"run", "--once"}) const {
    std::vector<ProcessOutcome> out(which.size());
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < which.size(); ++k)
      threads.emplace_back([&, k] { out[k] = members_[which[k]]->certagent(args); });
    for (auto& t : threads) t.join();
    return out;
  }

  std::unique_ptr<protocol::EtcdClient> etcd() const {
    protocol::EtcdOptions o;
    o.endpoints.clear();
    for (const auto& e : split(etcd_->at("ENDPOINTS"))) o.endpoints.emplace_back(e.as_string());
    o.trust_file = etcd_->at("CA_FILE");
    o.client_certificate_file = etcd_->at("CLIENT_CERT");
    o.client_key_file = etcd_->at("CLIENT_KEY");
    o.waiter = &waiter_;
    auto c = protocol::EtcdClient::create(o);
    if (!c) throw std::runtime_error(c.error().message);
    return std::move(*c);
  }

  // etcd key (under the prefix) -> value.
  std::map<std::string, std::string> etcd_keys(const std::string& under) const {
    auto listed = etcd()->list(prefix_ + "/" + under);
    if (!listed) throw std::runtime_error(listed.error().message);
    std::map<std::string, std::string> out;
    for (const auto& kv : *listed) out[kv.key.substr(prefix_.size() + 1)] = kv.value;
    return out;
  }

  static std::string thumbprint_in(const std::string& version_value) {
    return std::string(json::parse(version_value).as_object().at("thumbprint").as_string());
  }

  static std::string log_of(const std::vector<ProcessOutcome>& runs) {
    std::string out;
    for (const auto& r : runs) out += "--- exit " + std::to_string(r.exit_code) + "\n" + r.err + r.out;
    return out;
  }

  static PebbleEnv* pebble_;
  static std::map<std::string, std::string>* etcd_;
  std::string prefix_, key_, hook_;
  std::unique_ptr<EngineSandbox> shared_;
  std::vector<std::unique_ptr<EngineSandbox>> members_;
  mutable agent::SleepingWaiter waiter_;
};

PebbleEnv* Pool::pebble_ = nullptr;
std::map<std::string, std::string>* Pool::etcd_ = nullptr;

const std::vector<std::string> kPoolPurposes{"Web"};
const std::vector<std::string> kMemberPurposes{"Server"};

TEST_F(Pool, ThreeMembersOneOrderPerPoolCertificateEveryMemberBindsIt) {
  const auto before = new_order_count(*pebble_);
  auto runs = run_all();
  for (const auto& r : runs) ASSERT_EQ(r.exit_code, 0) << log_of(runs);
  const auto versions = etcd_keys("version/");
  ASSERT_EQ(versions.size(), 1u) << "the Web certificate is pool-wide, Server is not: " << log_of(runs);
  // One order for the pool's certificate, one per member for its own.
  EXPECT_EQ(new_order_count(*pebble_) - before, 1u + 3u) << log_of(runs);
  std::size_t led = 0, installed = 0;
  for (const auto& r : runs) {
    led += (r.err + r.out).find("orders it for pool fe-pool") != std::string::npos ? 1 : 0;
    installed += (r.err + r.out).find("installed the pool's version") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(led, 1u) << log_of(runs);
  EXPECT_EQ(installed, 2u) << "the others installed what the leader ordered: " << log_of(runs);

  std::set<std::string> own;
  for (std::size_t i = 0; i < 3; ++i) {
    auto certs = members_[i]->certs();
    for (const auto& purpose : kPoolPurposes) {
      const auto published = versions.find("version/fe-" + ascii_lower(purpose));
      ASSERT_NE(published, versions.end()) << purpose;
      EXPECT_EQ(thumbprint_of(certs.at(purpose)), thumbprint_in(published->second)) << member(i) << " " << purpose;
      const auto bound = etcd_keys("bound/fe-" + ascii_lower(purpose) + "/" + member(i));
      ASSERT_EQ(bound.size(), 1u) << member(i) << " wrote back what it bound";
      EXPECT_EQ(bound.begin()->second, thumbprint_of(certs.at(purpose)));
    }
    own.insert(thumbprint_of(certs.at("Server")));
    EXPECT_EQ(names_of(certs.at("Server")), std::vector<std::string>{member(i) + ".contoso.net"});
  }
  EXPECT_EQ(own.size(), 3u) << "Server stays per member";
  // The private key never appears in clear in etcd.
  for (const auto& [k, v] : versions) {
    EXPECT_THAT(v, Not(HasSubstr("PRIVATE KEY"))) << k;
    EXPECT_THAT(v, HasSubstr("certagent-aead-v1:")) << k;
  }

  // A second pass of every member: nothing to do, no order.
  const auto settled = new_order_count(*pebble_);
  runs = run_all();
  for (const auto& r : runs) EXPECT_EQ(r.exit_code, 0) << log_of(runs);
  EXPECT_EQ(new_order_count(*pebble_), settled) << log_of(runs);

  // `status --json`: the pool as the pass saw it — the version, who ordered it, each member's binding.
  auto status = members_[2]->certagent({"--json", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const auto pool = json::parse(status.out).as_object().at("pool").as_object();
  EXPECT_EQ(pool.at("name").as_string(), "fe-pool");
  EXPECT_EQ(pool.at("member").as_string(), "fe03");
  const auto& certificates = pool.at("certificates").as_array();
  ASSERT_EQ(certificates.size(), 1u) << status.out;
  const auto& web = certificates[0].as_object();
  EXPECT_EQ(web.at("id").as_string(), "fe-web");
  EXPECT_EQ(web.at("thumbprint").as_string(), thumbprint_in(versions.at("version/fe-web")));
  EXPECT_TRUE(web.at("leader").is_null()) << "nothing is being ordered";
  const auto& bound = web.at("bound").as_object();
  ASSERT_EQ(bound.size(), 3u) << status.out;
  for (const auto& [who, thumbprint] : bound) EXPECT_EQ(thumbprint.as_string(), web.at("thumbprint").as_string()) << who;
  auto text = members_[2]->certagent({"status"});
  EXPECT_THAT(text.out, HasSubstr("pool fe-pool (this member: fe03)")) << text.out;
}

TEST_F(Pool, AMemberWithTheWrongKeyRefusesTheOthersAreUnaffected) {
  auto runs = run_all({0});  // fe01 orders both pool certificates
  ASSERT_EQ(runs[0].exit_code, 0) << log_of(runs);
  const auto wrong = make_key(members_[1]->dir() / "other.key", 'w');
  write_policy(1, {"contoso.com"}, wrong);
  const auto before = new_order_count(*pebble_);
  runs = run_all({0, 1, 2});
  EXPECT_EQ(runs[0].exit_code, 0) << log_of(runs);
  EXPECT_EQ(runs[2].exit_code, 0) << log_of(runs);
  EXPECT_NE(runs[1].exit_code, 0) << log_of(runs);
  const std::string said = runs[1].err + runs[1].out;
  EXPECT_THAT(said, HasSubstr("does not open with this member's pool key " + wrong)) << said;
  EXPECT_THAT(said, HasSubstr("refusing to install it, nothing bound")) << said;
  // fe02 and fe03 ordered their own certificate each; no pool certificate again.
  EXPECT_EQ(new_order_count(*pebble_) - before, 2u) << log_of(runs);
  auto refused = members_[1]->certs();
  for (const auto& purpose : kPoolPurposes) EXPECT_EQ(thumbprint_of(refused.at(purpose)), "") << purpose;
  auto fine = members_[2]->certs();
  auto first = members_[0]->certs();
  for (const auto& purpose : kPoolPurposes)
    EXPECT_EQ(thumbprint_of(fine.at(purpose)), thumbprint_of(first.at(purpose))) << purpose;
}

TEST_F(Pool, ASipDomainAddedOnEveryMemberIsOneReissueForThePool) {
  auto runs = run_all();
  for (const auto& r : runs) ASSERT_EQ(r.exit_code, 0) << log_of(runs);
  const auto old = etcd_keys("version/");
  std::map<std::string, std::string> mine;  // member/purpose -> thumbprint of its own certificates
  for (std::size_t i = 0; i < 3; ++i)
    for (const auto& purpose : kMemberPurposes) mine[member(i) + "/" + purpose] = thumbprint_of(members_[i]->certs().at(purpose));
  for (std::size_t i = 0; i < 3; ++i) write_policy(i, {"contoso.com", "fabrikam.com"});
  const auto before = new_order_count(*pebble_);
  runs = run_all();
  for (const auto& r : runs) ASSERT_EQ(r.exit_code, 0) << log_of(runs);
  const auto now = etcd_keys("version/");
  std::size_t pool_reissues = 0, member_reissues = 0;
  for (const auto& [k, v] : now) pool_reissues += thumbprint_in(v) != thumbprint_in(old.at(k)) ? 1 : 0;
  for (std::size_t i = 0; i < 3; ++i)
    for (const auto& purpose : kMemberPurposes)
      member_reissues += thumbprint_of(members_[i]->certs().at(purpose)) != mine.at(member(i) + "/" + purpose) ? 1 : 0;
  EXPECT_EQ(pool_reissues, 1u) << "lyncdiscover.fabrikam.com on the pool's certificate: one reissue for the pool";
  EXPECT_EQ(member_reissues, 0u) << "the members' own certificates do not carry SIP names";
  EXPECT_EQ(new_order_count(*pebble_) - before, member_reissues + pool_reissues) << log_of(runs);
  for (const auto& purpose : kPoolPurposes) {
    std::set<std::string> bound;
    for (std::size_t i = 0; i < 3; ++i) bound.insert(thumbprint_of(members_[i]->certs().at(purpose)));
    EXPECT_EQ(bound.size(), 1u) << purpose << ": every member binds the pool's one certificate";
  }
}

// etcd partly or wholly down. One member down: the client steps over it, the pool goes on. All
// down: every member keeps what it has bound and still orders its own certificates; the pool's
// reissue fails (backs off) and nothing is bound half; once etcd is back the reissue is one order.
TEST_F(Pool, EtcdDownMembersKeepServingAndThePoolCatchesUpWhenItReturns) {
  auto runs = run_all();
  for (const auto& r : runs) ASSERT_EQ(r.exit_code, 0) << log_of(runs);
  const auto first = thumbprint_in(etcd_keys("version/").at("version/fe-web"));

  etcd_member("stop-member", 1);  // one of three: a quorum is left
  for (std::size_t i = 0; i < 3; ++i) write_policy(i, {"contoso.com", "fabrikam.com"});
  auto before = new_order_count(*pebble_);
  runs = run_all();
  for (const auto& r : runs) ASSERT_EQ(r.exit_code, 0) << log_of(runs);
  EXPECT_EQ(new_order_count(*pebble_) - before, 1u) << "one reissue for the pool with one etcd member down";
  const auto second = thumbprint_in(etcd_keys("version/").at("version/fe-web"));
  EXPECT_NE(second, first);

  etcd_member("stop-member", 2);
  etcd_member("stop-member", 3);
  // A third SIP domain for the pool's certificate, a second name on each member's own.
  for (std::size_t i = 0; i < 3; ++i) write_policy(i, {"contoso.com", "fabrikam.com", "example.com"}, "", false, true);
  before = new_order_count(*pebble_);
  runs = run_all();
  for (const auto& r : runs) EXPECT_EQ(r.exit_code, 1) << "the pool's certificate failed: " << log_of(runs);
  EXPECT_THAT(log_of(runs), HasSubstr("no etcd endpoint answered")) << log_of(runs);
  EXPECT_EQ(new_order_count(*pebble_) - before, 3u) << "each member's own reissue, nothing for the pool";
  for (std::size_t i = 0; i < 3; ++i) {
    auto certs = members_[i]->certs();
    EXPECT_EQ(thumbprint_of(certs.at("Web")), second) << member(i) << " keeps serving the pool's certificate";
    EXPECT_EQ(names_of(certs.at("Server")).size(), 2u) << member(i) << " renewed its own without etcd";
  }

  for (int n = 1; n <= 3; ++n) etcd_member("start-member", n);
  before = new_order_count(*pebble_);
  runs = run_all({0, 1, 2}, {"run", "--once", "--now"});  // now, not after the back-off (as the daemon would)
  for (const auto& r : runs) EXPECT_EQ(r.exit_code, 0) << log_of(runs);
  EXPECT_EQ(new_order_count(*pebble_) - before, 1u) << "the pool's reissue, once, when etcd is back";
  const auto third = thumbprint_in(etcd_keys("version/").at("version/fe-web"));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(thumbprint_of(members_[i]->certs().at("Web")), third) << member(i);
}

// The leader SIGKILLed at several steps of the pool's order (the kill sweep's fault points): its
// lease runs out, a follower takes over, imports the order journal the leader mirrored to etcd
// and resumes that order at the CA (the pool's one ACME account). One order in the end, every
// member bound to it — the killed one too, at its next run.
TEST_F(Pool, TheLeaderKilledDuringTheOrderAnotherResumesItOneOrderInTheEnd) {
  for (const char* point : {"engine.order.after_intent", "engine.order.after_new_order",
                            "engine.order.before_finalize", "engine.order.after_finalize"}) {
    SCOPED_TRACE(point);
    prefix_ = "/certagent-test/killed/" + std::string(point);
    for (std::size_t i = 0; i < 3; ++i) write_policy(i, {"contoso.com"}, "", true);
    const auto before = new_order_count(*pebble_);
    // fe01 leads alone first (the others start once it holds the lead) and dies at the point.
    auto killed = members_[0]->certagent({"run", "--once"}, {std::string("CERTAGENT_FAULT_KILL=") + point});
    ASSERT_EQ(killed.signal, SIGKILL) << point << ": " << killed.err;
    ASSERT_EQ(etcd_keys("leader/").size(), 1u) << "the dead leader's key stays until its lease runs out";
    ASSERT_EQ(etcd_keys("journal/").size(), 1u) << "the order it placed is journaled in etcd";
    const auto t0 = std::chrono::steady_clock::now();
    auto runs = run_all({1, 2});
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    for (const auto& r : runs) ASSERT_EQ(r.exit_code, 0) << log_of(runs);
    EXPECT_THAT(log_of(runs), HasSubstr("that the member leading before placed (journaled in etcd)")) << log_of(runs);
    if (std::string_view(point) == "engine.order.after_intent") {  // killed before newOrder: nothing at the CA yet
      EXPECT_THAT(log_of(runs), HasSubstr("no order for the journaled intent")) << log_of(runs);
    }
    EXPECT_LT(took, std::chrono::seconds(30)) << "taken over within the lease (5 s) and an order";
    std::cout << "[ pool ] " << point << ": taken over and issued " << took.count() << " ms after the leader died\n";
    runs = run_all({0});  // the killed member installs what the pool has now
    ASSERT_EQ(runs[0].exit_code, 0) << log_of(runs);
    EXPECT_EQ(new_order_count(*pebble_) - before, 1u) << "one order for the pool's certificate";
    std::set<std::string> bound;
    for (std::size_t i = 0; i < 3; ++i) bound.insert(thumbprint_of(members_[i]->certs().at("Web")));
    EXPECT_EQ(bound.size(), 1u);
    EXPECT_NE(*bound.begin(), "");
    EXPECT_TRUE(etcd_keys("journal/").empty()) << "the journal goes once the version is published";
    // Fresh members for the next point (their stores hold this point's certificate).
    members_.clear();
    for (int i = 1; i <= 3; ++i) members_.push_back(std::make_unique<EngineSandbox>(*pebble_));
  }
}

}  // namespace
}  // namespace certagent::integration
