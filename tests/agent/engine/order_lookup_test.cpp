// The intent-first order journal and the look-up of an order a killed run
// placed (agent/engine/order_lookup.hpp), against recorded exchanges.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "agent/engine/acme.hpp"
#include "agent/store/fault.hpp"
#include "agent/store/order_journal.hpp"
#include "agent/engine/order_lookup.hpp"
#include "protocol/acme_fakes.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

using ::testing::HasSubstr;
using protocol::Method;
using protocol::testing::reply;
constexpr const char* kAccount = "https://ca.test/acct/1";
constexpr const char* kList = "https://ca.test/list/1";

std::string order_json(const std::string& status, const std::vector<std::string>& names,
                       const std::string& expires = "2023-11-15T22:13:20Z") {
  boost::json::array ids;
  for (const auto& n : names) ids.push_back(boost::json::object{{"type", "dns"}, {"value", n}});
  boost::json::object o{{"status", status},
                        {"identifiers", ids},
                        {"authorizations", boost::json::array{"https://ca.test/authz/1"}},
                        {"finalize", "https://ca.test/finalize/1"}};
  if (!expires.empty()) o["expires"] = expires;
  return boost::json::serialize(o);
}

protocol::Order order(const std::string& status, const std::vector<std::string>& names,
                      const std::string& expires = "2023-11-15T22:13:20Z", const std::string& profile = "") {
  auto o = protocol::parse_order(boost::json::parse(order_json(status, names, expires)).as_object(), "https://ca.test/o/x");
  EXPECT_TRUE(o) << o.error().message;
  o->profile = profile;
  return *o;
}

// SimTime's now is 2023-11-14T22:13:20Z (1'700'000'000).
const ClockTime kNow{std::chrono::seconds(1'700'000'000)};
const OrderIntent kIntent{{"a.example", "b.example"}, "", kNow - std::chrono::minutes(1)};

TEST(OrderFitsIntent, SameNamesPendingOrReadyUnexpiredFit) {
  EXPECT_TRUE(order_fits_intent(order("pending", {"b.example", "A.example."}), kIntent, kNow));
  EXPECT_TRUE(order_fits_intent(order("ready", {"a.example", "b.example"}), kIntent, kNow));
  EXPECT_TRUE(order_fits_intent(order("pending", {"a.example", "b.example"}, ""), kIntent, kNow)) << "no expires";
}

TEST(OrderFitsIntent, OtherNamesFinalizedExpiredOrAnotherProfileDoNotFit) {
  EXPECT_FALSE(order_fits_intent(order("pending", {"a.example"}), kIntent, kNow));
  EXPECT_FALSE(order_fits_intent(order("pending", {"a.example", "b.example", "c.example"}), kIntent, kNow));
  for (const char* s : {"processing", "valid", "invalid"})
    EXPECT_FALSE(order_fits_intent(order(s, {"a.example", "b.example"}), kIntent, kNow)) << s;
  EXPECT_FALSE(order_fits_intent(order("pending", {"a.example", "b.example"}, "2023-11-14T22:13:20Z"), kIntent, kNow))
      << "expired now";
  OrderIntent later = kIntent;
  later.time = kNow + std::chrono::hours(48);
  EXPECT_FALSE(order_fits_intent(order("pending", {"a.example", "b.example"}), later, kNow + std::chrono::hours(-1)))
      << "expired before the intent was written";
  OrderIntent profiled = kIntent;
  profiled.profile = "tlsserver";
  EXPECT_FALSE(order_fits_intent(order("pending", {"a.example", "b.example"}, "", "shortlived"), profiled, kNow));
  EXPECT_TRUE(order_fits_intent(order("pending", {"a.example", "b.example"}, "", "tlsserver"), profiled, kNow));
}

class OrderLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    using namespace protocol::testing;
    net_.add(Method::Get, kDir, reply_without_nonce(200, directory_json()));
    auto s = protocol::AcmeSession::open(net_, time_, time_, kDir);
    ASSERT_TRUE(s);
    session_.emplace(std::move(*s));
    auto key = std::make_shared<const protocol::PrivateKey>(*protocol::PrivateKey::generate(protocol::KeyType::EcP256));
    session_->set_account(protocol::AccountRef{key, kAccount});
    net_.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  }
  void answer_list(const std::vector<std::string>& urls) {
    net_.add(Method::Post, kAccount, reply(200, fmt::format(R"({{"status":"valid","orders":"{}"}})", kList)));
    boost::json::array a(urls.begin(), urls.end());
    net_.add(Method::Post, kList, reply(200, boost::json::serialize(boost::json::object{{"orders", a}})));
  }
  protocol::testing::ScriptedTransport net_;
  protocol::testing::SimTime time_;
  std::optional<protocol::AcmeSession> session_;
};

TEST_F(OrderLookupTest, TheNewestFittingOrderIsTakenReadingFromTheEndOfTheList) {
  answer_list({"https://ca.test/o/1", "https://ca.test/o/2", "https://ca.test/o/3"});
  net_.add(Method::Post, "https://ca.test/o/3", reply(200, order_json("pending", {"other.example"})));
  net_.add(Method::Post, "https://ca.test/o/2", reply(200, order_json("pending", {"a.example", "b.example"})));
  auto found = find_intended_order(*session_, kIntent);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->order);
  EXPECT_EQ(found->order->url, "https://ca.test/o/2");
  EXPECT_EQ(found->listed, 3u);
  EXPECT_EQ(found->fetched, 2u);
  EXPECT_TRUE(net_.script.empty()) << "o/1 is not read";
}

TEST_F(OrderLookupTest, UnreadableOrdersAreSkippedAndTheReadsAreBounded) {
  std::vector<std::string> urls;
  for (int i = 0; i < 100; ++i) urls.push_back(fmt::format("https://ca.test/o/{}", i));
  answer_list(urls);
  net_.add(Method::Post, "https://ca.test/o/99", protocol::testing::problem(404, "malformed", "no such order"));
  for (int i = 98; i > 95; --i)
    net_.add(Method::Post, fmt::format("https://ca.test/o/{}", i), reply(200, order_json("valid", kIntent.names)));
  OrderLookupLimits limits;
  limits.max_fetched = 4;
  auto found = find_intended_order(*session_, kIntent, limits);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->order) << "a valid order with the same names is the previous issuance, not ours";
  EXPECT_EQ(found->fetched, 4u);
  EXPECT_TRUE(net_.script.empty());
}

TEST_F(OrderLookupTest, ACaWithoutAnOrdersListIsAnErrorTheCallerFallsBackOn) {
  net_.add(Method::Post, kAccount, reply(200, R"({"status":"valid"})"));
  auto found = find_intended_order(*session_, kIntent);
  ASSERT_FALSE(found);
  EXPECT_THAT(found.error().message, HasSubstr("no orders list"));
}

class IntentJournal : public OrderLookupTest {
 protected:
  void SetUp() override {
    OrderLookupTest::SetUp();
    auto opened = Store::open(dir_.path() / "state", OpenOptions{true, {}});
    ASSERT_TRUE(opened) << opened.error().message;
    store_.emplace(std::move(*opened));
  }
  testing::TempDir dir_;
  std::optional<Store> store_;
  OrderRequest request_{"web", {"a.example", "b.example"}, policy::KeyType::EcP256, "", ""};
};

TEST_F(IntentJournal, TheIntentIsJournaledBeforeNewOrderIsSent) {
  net_.add(Method::Post, "https://ca.test/order", protocol::testing::problem(500, "serverInternal", "the CA broke"));
  net_.add(Method::Post, kAccount, protocol::testing::problem(500, "serverInternal", "the CA broke"));
  auto placed = place_order(*session_, request_, *store_);
  ASSERT_FALSE(placed);
  EXPECT_FALSE(is_account_unable_to_order(placed.error())) << "the CA, not the account: " << placed.error().message;
  auto journal = read_order_journal(store_->dir(), "web");
  ASSERT_TRUE(journal && *journal) << "the intent stays: the CA may have created the order before failing";
  EXPECT_EQ((*journal)->order_url, "");
  EXPECT_EQ((*journal)->key_pem, "") << "no key before newOrder";
  EXPECT_EQ((*journal)->names, request_.names);
  EXPECT_EQ((*journal)->account_url, kAccount);
  EXPECT_EQ((*journal)->intent_time, 1'700'000'000);
}

// newOrder answers serverInternal twice while the account reads fine (step-ca after its orders
// list was read): the account can no longer order; the pass replaces it.
TEST_F(IntentJournal, ServerInternalTwiceWhileTheAccountReadsFineSaysTheAccountCannotOrder) {
  net_.add(Method::Post, "https://ca.test/order", protocol::testing::problem(500, "serverInternal", "index broken"));
  net_.add(Method::Post, kAccount, reply(200, R"({"status":"valid"})"));
  net_.add(Method::Post, "https://ca.test/order", protocol::testing::problem(500, "serverInternal", "index broken"));
  auto placed = place_order(*session_, request_, *store_);
  ASSERT_FALSE(placed);
  EXPECT_TRUE(is_account_unable_to_order(placed.error())) << placed.error().message;
  auto journal = read_order_journal(store_->dir(), "web");
  ASSERT_TRUE(journal && *journal) << "the intent stays";
}

TEST_F(IntentJournal, AnOrderTheCaRefusedVoidsTheIntent) {
  net_.add(Method::Post, "https://ca.test/order",
           protocol::testing::problem(400, "rejectedIdentifier", "a.example is not ours to issue for"));
  ASSERT_FALSE(place_order(*session_, request_, *store_));
  auto journal = read_order_journal(store_->dir(), "web");
  ASSERT_TRUE(journal);
  EXPECT_FALSE(*journal) << "no order was created: nothing to look up next time";
}

TEST_F(IntentJournal, ThePlacedOrdersUrlIsJournaledWithTheIntentAndNoKey) {
  net_.add(Method::Post, "https://ca.test/order",
           reply(201, order_json("pending", request_.names), "application/json", {{"Location", "https://ca.test/o/7"}}));
  auto placed = place_order(*session_, request_, *store_);
  ASSERT_TRUE(placed) << placed.error().message;
  auto journal = read_order_journal(store_->dir(), "web");
  ASSERT_TRUE(journal && *journal);
  EXPECT_EQ((*journal)->order_url, "https://ca.test/o/7");
  EXPECT_EQ((*journal)->key_pem, "");
  EXPECT_EQ((*journal)->intent_time, 1'700'000'000);
  struct stat st {};
  ASSERT_EQ(::stat(order_journal_path(store_->dir(), "web").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Counts the journal writes (each creates one temporary file) and, at the
// point after the order's URL is journaled, reads what the journal holds.
class JournalWatch {
 public:
  explicit JournalWatch(const Store& store) {
    set_fault_injector([this, &store](std::string_view point) {
      if (point == "write_file.after_create") ++writes;
      if (point == "engine.order.after_new_order") at_order = read_order_journal(store.dir(), "web");
      if (point == "engine.order.after_key") ++after_key;
      return false;
    });
  }
  ~JournalWatch() { set_fault_injector({}); }
  JournalWatch(const JournalWatch&) = delete;
  JournalWatch& operator=(const JournalWatch&) = delete;
  int writes = 0;
  int after_key = 0;
  Result<std::optional<OrderJournal>> at_order = std::nullopt;
};

TEST_F(IntentJournal, AKeyReadyWhenTheOrderIsPlacedIsJournaledWithItsUrlInTheSameWrite) {
  net_.add(Method::Post, "https://ca.test/order",
           reply(201, order_json("pending", request_.names), "application/json", {{"Location", "https://ca.test/o/7"}}));
  auto key = std::make_shared<const protocol::PrivateKey>(*protocol::PrivateKey::generate(protocol::KeyType::EcP256));
  int asked = 0;
  JournalWatch watch(*store_);
  auto placed = place_order(*session_, request_, *store_, [&] {
    ++asked;
    return key;
  });
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(asked, 1) << "asked for once, after newOrder";
  EXPECT_EQ(placed->key, key);
  EXPECT_EQ(watch.writes, 2) << "the intent, then the order's URL and the key together";
  EXPECT_EQ(watch.after_key, 1) << "the kill sweep's point after the key is journaled is reached";
  ASSERT_TRUE(watch.at_order && *watch.at_order) << "the journal is on disk when the order's step ends";
  EXPECT_EQ((*watch.at_order)->order_url, "https://ca.test/o/7");
  EXPECT_EQ((*watch.at_order)->key_pem, *key->to_pem()) << "the key is durable before any CSR is made from it";
  auto parsed = protocol::PrivateKey::from_pem((*watch.at_order)->key_pem);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed->to_pem(), *key->to_pem()) << "what a resumed run reads is that key";
}

TEST_F(IntentJournal, AKeyNotReadyIsNotWaitedForAndTheUrlIsJournaledWithoutIt) {
  net_.add(Method::Post, "https://ca.test/order",
           reply(201, order_json("pending", request_.names), "application/json", {{"Location", "https://ca.test/o/7"}}));
  JournalWatch watch(*store_);
  auto placed = place_order(*session_, request_, *store_,
                            [] { return std::shared_ptr<const protocol::PrivateKey>(); });
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(placed->key, nullptr);
  EXPECT_EQ(watch.writes, 2);
  EXPECT_EQ(watch.after_key, 0) << "no key journaled yet: finalize journals it on its own";
  ASSERT_TRUE(watch.at_order && *watch.at_order);
  EXPECT_EQ((*watch.at_order)->order_url, "https://ca.test/o/7");
  EXPECT_EQ((*watch.at_order)->key_pem, "");
}

TEST_F(IntentJournal, NoKeyIsAskedForWhenTheCaRefusesTheOrder) {
  net_.add(Method::Post, "https://ca.test/order",
           protocol::testing::problem(400, "rejectedIdentifier", "a.example is not ours to issue for"));
  int asked = 0;
  ASSERT_FALSE(place_order(*session_, request_, *store_, [&] {
    ++asked;
    return std::shared_ptr<const protocol::PrivateKey>();
  }));
  EXPECT_EQ(asked, 0);
}

// Workers journal their orders without the store mutex (agent/engine/order.cpp):
// several at once, the first of them creating orders/, each certificate's
// journal whole afterwards. Runs under TSan (scripts/test).
TEST(ConcurrentJournals, CertificatesJournaledAtOnceFromSeveralThreadsEachKeepTheirOwn) {
  testing::TempDir dir;
  auto store = Store::open(dir.path() / "state", OpenOptions{true, {}});
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_FALSE(std::filesystem::exists(store->dir() / "orders")) << "the threads race to create it";
  constexpr int kThreads = 6;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      OrderJournal j{fmt::format("cert{}", t), "", {fmt::format("n{}.example", t)}, "", "", kAccount, 1};
      for (int step = 0; step < 3 && errors[t].empty(); ++step) {
        if (step == 1) j.order_url = fmt::format("https://ca.test/o/{}", t);
        if (step == 2) j.key_pem = fmt::format("KEY {}", t);
        if (auto w = write_order_journal(*store, j); !w) errors[t] = w.error().message;
      }
      if (t % 2 == 1 && errors[t].empty())
        if (auto r = remove_order_journal(*store, j.certificate_id); !r) errors[t] = r.error().message;
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << t;
    auto j = read_order_journal(store->dir(), fmt::format("cert{}", t));
    ASSERT_TRUE(j) << j.error().message;
    if (t % 2 == 1) {
      EXPECT_FALSE(*j) << t << " was removed";
      continue;
    }
    ASSERT_TRUE(*j) << t;
    EXPECT_EQ((*j)->order_url, fmt::format("https://ca.test/o/{}", t));
    EXPECT_EQ((*j)->key_pem, fmt::format("KEY {}", t));
    EXPECT_EQ((*j)->names, std::vector<std::string>{fmt::format("n{}.example", t)});
  }
  for (const auto& e : std::filesystem::directory_iterator(store->dir() / "orders"))
    EXPECT_FALSE(e.path().filename().string().starts_with(".tmp-")) << e.path();
}

TEST_F(IntentJournal, AJournalInAnotherFormatIsRefused) {
  std::filesystem::create_directories(store_->dir() / "orders");
  std::ofstream(order_journal_path(store_->dir(), "web"))
      << R"({"format":2,"certificate_id":"web","order_url":"https://ca.test/o/1","names":["a.example"],"key":"PEM",)"
         R"("profile":"","account_url":"https://ca.test/a/1","intent_time":1})";
  auto journal = read_order_journal(store_->dir(), "web");
  ASSERT_FALSE(journal);
  EXPECT_NE(journal.error().message.find("is not an order journal"), std::string::npos) << journal.error().message;
}

}  // namespace
}  // namespace certagent::agent
