// dns-persist-01 (draft-ietf-acme-dns-persist) against a CA that offers it (pebble v2.10.3):
// `plan` shows each _validation-persist record, `plan --check-dns` reads them back from the
// CA's own DNS (pebble-challtestsrv), issuance works with no DNS credential in the policy, a
// missing record is named in the error, and an account key rollover leaves records valid.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <sstream>

#include "acme_flow.hpp"
#include "agent/store/store.hpp"
#include "ca_suite.hpp"
#include "common/process.hpp"
#include "engine_support.hpp"
#include "protocol/acme/account.hpp"

namespace certagent::integration {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

std::string describe(const ProcessOutcome& r) {
  return fmt::format("exit {} signal {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.signal, r.out, r.err);
}

std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

class CaDnsPersist : public ::testing::TestWithParam<CaUnderTest> {
 protected:
  void SetUp() override {
    if (!GetParam().dns_persist) GTEST_SKIP() << GetParam().name << " offers no dns-persist-01";
    // A pebble instance of its own: other suites count the requests of theirs meanwhile (ctest -j).
    env_ = require_ca_env(GetParam(), GetParam().name == "pebble_current" ? "persist" : "default");
    ASSERT_FALSE(env_.dns_management_url.empty()) << "the run directory's env file has no DNS_MANAGEMENT_URL";
  }
  void TearDown() override {
    for (const auto& host : published_) challtestsrv("/clear-txt", json::object{{"host", host}});
  }

  // A policy with one custom role whose certificate carries `names`; dns-persist-01 read
  // through the CA's own DNS server. No hook, no key, no DNS credential of any kind.
  void write_policy(const EngineSandbox& box, const std::vector<std::string>& names) const {
    json::object policy{
        {"ca", json::object{{"directory", env_.directory_url}, {"trust_bundle", env_.tls_root}}},
        {"challenge", json::object{{"type", "dns-persist-01"}, {"resolver", env_.dns_server}}},
        {"roles", json::array{json::object{{"role", "custom"}, {"id", "web"},
                                           {"names", json::object{{"https", json::array(names.begin(), names.end())}}}}}}};
    box.replace_policy(json::serialize(policy) + "\n");
  }

  void challtestsrv(const std::string& path, const json::object& body) const {
    ProcessSpec spec;
    spec.argv = {"curl", "-sf", "--max-time", "5", "-X", "POST", "-d", json::serialize(body), env_.dns_management_url + path};
    spec.inherit_path = true;
    auto r = run_process(spec);
    ASSERT_TRUE(r && r->succeeded()) << "challtestsrv " << path << " " << json::serialize(body);
  }
  void publish(const std::string& record, const std::string& value) {
    challtestsrv("/set-txt", json::object{{"host", record + "."}, {"value", value}});
    published_.push_back(record + ".");
  }

  // `plan --json`'s dns_persist object.
  static json::object persist_plan(const EngineSandbox& box, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--json", "plan"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = box.certagent(args);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 3) << describe(r);
    return json::parse(r.out).as_object().at("dns_persist").as_object();
  }
  static std::map<std::string, json::object> records_by_name(const json::object& plan) {
    std::map<std::string, json::object> out;
    for (const auto& r : plan.at("records").as_array()) out[std::string(r.at("dns_name").as_string())] = r.as_object();
    return out;
  }

  PebbleEnv env_;
  std::vector<std::string> published_;
};

TEST_P(CaDnsPersist, DnsPersistPlanShowsEachRecordAndIssuanceNeedsNoDnsCredential) {
  EngineSandbox box(env_);
  const auto fresh = fresh_names(2, "persist");
  const std::string plain = fresh[0], wildcard = "*." + fresh[1];
  write_policy(box, {plain, wildcard});

  // First pass: the account is registered, and the order stops at the records, naming them.
  auto first = box.certagent({"run", "--once"});
  ASSERT_NE(first.exit_code, 0) << describe(first);
  // Every missing record in one error, each with its value.
  const std::string first_failure = line_with(first.out + first.err, "issue failed:");
  EXPECT_THAT(first_failure, HasSubstr("2 records: "));
  EXPECT_THAT(first_failure, HasSubstr("create the TXT record _validation-persist." + plain + " with the value"));
  EXPECT_THAT(first_failure, HasSubstr("create the TXT record _validation-persist." + fresh[1] + " with the value"));

  auto plan = persist_plan(box);
  EXPECT_EQ(plan.at("issuer_domain").as_string(), "pebble.letsencrypt.org");  // the directory's caaIdentities
  const std::string account(plan.at("account_uri").as_string());
  EXPECT_THAT(account, HasSubstr("/my-account/"));
  auto records = records_by_name(plan);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records.at(plain).at("record").as_string(), "_validation-persist." + plain);
  EXPECT_EQ(records.at(plain).at("value").as_string(), "pebble.letsencrypt.org; accounturi=" + account);
  EXPECT_EQ(records.at(wildcard).at("record").as_string(), "_validation-persist." + fresh[1]);
  EXPECT_EQ(records.at(wildcard).at("value").as_string(),
            "pebble.letsencrypt.org; accounturi=" + account + "; policy=wildcard");
  // The same in the table people read.
  auto text = box.certagent({"plan"});
  EXPECT_THAT(text.out, HasSubstr("\"pebble.letsencrypt.org; accounturi=" + account + "; policy=wildcard\""));

  // The read-only check: nothing yet; then the wildcard's record without policy=wildcard.
  auto none = box.certagent({"plan", "--check-dns"});
  EXPECT_EQ(none.exit_code, 3) << describe(none);
  EXPECT_THAT(none.out, HasSubstr("missing: no TXT record"));
  publish("_validation-persist." + plain, std::string(records.at(plain).at("value").as_string()));
  publish("_validation-persist." + fresh[1], "pebble.letsencrypt.org; accounturi=" + account);
  auto checked = records_by_name(persist_plan(box, {"--check-dns"}));
  EXPECT_EQ(checked.at(plain).at("check").as_string(), "present");
  EXPECT_EQ(checked.at(wildcard).at("check").as_string(), "wrong");
  EXPECT_THAT(std::string(checked.at(wildcard).at("detail").as_string()), HasSubstr("lacks policy=wildcard"));

  // The wrong record is named, with the value to create, before the CA is asked.
  auto wrong = box.certagent({"run", "--once", "--now"});  // --now: past the back-off the first failure set
  ASSERT_NE(wrong.exit_code, 0) << describe(wrong);
  EXPECT_THAT(wrong.out + wrong.err, HasSubstr("create the TXT record _validation-persist." + fresh[1] +
                                               " with the value \"pebble.letsencrypt.org; accounturi=" + account +
                                               "; policy=wildcard\""));
  const std::string failure = line_with(wrong.out + wrong.err, "issue failed:");  // not the back-off's quote of the first
  EXPECT_THAT(failure, HasSubstr("_validation-persist." + fresh[1]));
  EXPECT_THAT(failure, Not(HasSubstr("_validation-persist." + plain)));

  challtestsrv("/clear-txt", json::object{{"host", "_validation-persist." + fresh[1] + "."}});
  publish("_validation-persist." + fresh[1], std::string(records.at(wildcard).at("value").as_string()));
  auto all = box.certagent({"plan", "--check-dns"});
  EXPECT_EQ(all.exit_code, 0) << describe(all);
  auto issued = box.certagent({"run", "--once", "--now"});
  ASSERT_EQ(issued.exit_code, 0) << describe(issued);
  auto certs = box.certs();
  ASSERT_EQ(certs.count("https"), 1u);
  EXPECT_THAT(names_of(certs.at("https")), UnorderedElementsAreArray({plain, wildcard}));
}

// Rolls the stored account over to a new key, as an operator's rollover does: the CA keeps the
// account URL, the store keeps it and holds the new key.
void roll_account_key(const EngineSandbox& box, const PebbleEnv& env) {
  auto store = agent::Store::open(box.state(), agent::OpenOptions{true, {}});
  ASSERT_TRUE(store) << store.error().message;
  auto stored = store->load_account(env.directory_url);
  ASSERT_TRUE(stored && *stored);
  agent::Account account = **stored;
  protocol::CurlTransportOptions options;
  options.trust_file = env.tls_root;
  auto transport = ok_or_throw(protocol::CurlTransport::create(options), "transport");
  agent::SystemClock clock;
  agent::SleepingWaiter waiter;
  auto session = ok_or_throw(protocol::AcmeSession::open(*transport, clock, waiter, env.directory_url), "session");
  auto old_key = ok_or_throw(protocol::PrivateKey::from_pem(account.key_pem), "old key");
  session.set_account({std::make_shared<const protocol::PrivateKey>(std::move(old_key)), account.account_url});
  auto new_key = std::make_shared<const protocol::PrivateKey>(
      ok_or_throw(protocol::PrivateKey::generate(protocol::KeyType::EcP384), "new key"));
  auto rolled = protocol::change_account_key(session, new_key);
  ASSERT_TRUE(rolled) << rolled.error().message;
  account.key_pem = ok_or_throw(new_key->to_pem(), "pem");
  ASSERT_TRUE(store->save_account(account));
}

TEST_P(CaDnsPersist, DnsPersistRecordsStayValidAcrossAnAccountKeyRollover) {
  EngineSandbox box(env_);
  const auto fresh = fresh_names(2, "rollover");
  write_policy(box, {fresh[0]});
  auto registered = box.certagent({"run", "--once"});  // registers the account; stops at the record
  ASSERT_NE(registered.exit_code, 0) << describe(registered);
  const auto before = persist_plan(box);
  const std::string account(before.at("account_uri").as_string());
  ASSERT_FALSE(account.empty());
  // Both records are created now, before the rollover; the second name joins the policy after it.
  for (const auto& name : fresh) publish("_validation-persist." + name, "pebble.letsencrypt.org; accounturi=" + account);
  auto first = box.certagent({"run", "--once", "--now"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);

  const auto stored_key = [&] {
    auto store = agent::Store::open(box.state());
    return (*store->load_account(env_.directory_url))->key_pem;
  };
  const std::string old_key = stored_key();
  roll_account_key(box, env_);
  ASSERT_FALSE(HasFailure());
  EXPECT_NE(stored_key(), old_key);

  write_policy(box, {fresh[0], fresh[1]});
  const auto after = persist_plan(box, {"--check-dns"});
  EXPECT_EQ(after.at("account_uri").as_string(), account);
  for (const auto& [name, record] : records_by_name(after)) EXPECT_EQ(record.at("check").as_string(), "present") << name;
  // fresh[1] was never validated: the CA reads its pre-rollover record now, and the request is
  // signed with the new key (the old one no longer names the account).
  auto reissued = box.certagent({"run", "--once", "--now"});
  ASSERT_EQ(reissued.exit_code, 0) << describe(reissued);
  EXPECT_THAT(names_of(box.certs().at("https")), UnorderedElementsAreArray(fresh));
}

INSTANTIATE_TEST_SUITE_P(Cas, CaDnsPersist, ::testing::ValuesIn(cas_in_this_process()),
                         [](const ::testing::TestParamInfo<CaUnderTest>& info) { return info.param.name; });

}  // namespace
}  // namespace certagent::integration
