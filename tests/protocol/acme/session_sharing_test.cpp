// Sessions that share one directory and one nonce pool across threads
// (AcmeSession::sibling), as the engine uses them for all orders of a pass.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "acme_fakes.hpp"
#include "protocol/acme/session.hpp"
#include "protocol/acme/nonce_pool.hpp"

namespace certagent::protocol {
namespace {
using namespace testing;

TEST(NoncePoolSharing, ConcurrentAddAndTakeNeverHandOutANonceTwice) {
  NoncePool pool(16);
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::vector<std::string>> taken(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        pool.add("n" + std::to_string(t) + "x" + std::to_string(i));
        if (auto n = pool.take()) taken[t].push_back(*n);
      }
    });
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  std::size_t count = 0;
  for (const auto& v : taken) {
    count += v.size();
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), count) << "a nonce was handed out twice";
  EXPECT_GT(count, 0u);
  EXPECT_LE(count + pool.size(), static_cast<std::size_t>(kThreads * kEach));
}

class SiblingTest : public ::testing::Test {
 protected:
  ScriptedTransport first, second;
  SimTime time;
  std::shared_ptr<const PrivateKey> key = std::make_shared<PrivateKey>(*PrivateKey::generate(KeyType::EcP256));

  AcmeSession open() {
    first.add(Method::Get, kDir, reply_without_nonce(200, directory_json()));
    auto s = AcmeSession::open(first, time, time, kDir);
    EXPECT_TRUE(s) << s.error().message;
    s->set_account(AccountRef{key, "https://ca.test/acct/1"});
    return std::move(*s);
  }
  static std::string nonce_of(const HttpRequest& r) {
    return std::string(decode_jws(r.body).header.at("nonce").as_string());
  }
};

TEST_F(SiblingTest, SharesTheDirectoryAndAccountWithoutARequest) {
  auto s = open();
  auto other = s.sibling(second);
  EXPECT_TRUE(second.sent.empty());
  EXPECT_EQ(other.directory().new_order, "https://ca.test/order");
  EXPECT_EQ(other.account().url, "https://ca.test/acct/1");
  EXPECT_EQ(other.request_count(), 0u);
  EXPECT_EQ(s.request_count(), 1u);
}

TEST_F(SiblingTest, ANonceOneSessionReceivedIsUsedByTheOtherOnce) {
  auto s = open();
  auto other = s.sibling(second);
  first.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  auto answer = reply(200, "{}");
  first.add(Method::Post, "https://ca.test/a", answer);
  ASSERT_TRUE(s.post_as_get("https://ca.test/a", "a"));
  second.add(Method::Post, "https://ca.test/b", reply_without_nonce(200, "{}"));
  ASSERT_TRUE(other.post_as_get("https://ca.test/b", "b"));
  ASSERT_EQ(second.sent.size(), 1u) << "no newNonce: the pool had the first session's nonce";
  EXPECT_EQ(nonce_of(second.sent[0]), *answer.header("Replay-Nonce"));
  EXPECT_EQ(decode_jws(second.sent[0].body).header.at("kid").as_string(), "https://ca.test/acct/1");
  // That nonce is gone now: the first session must fetch a new one.
  first.add(Method::Head, "https://ca.test/nonce", reply(200, ""));
  first.add(Method::Post, "https://ca.test/c", reply(200, "{}"));
  ASSERT_TRUE(s.post_as_get("https://ca.test/c", "c"));
  EXPECT_NE(nonce_of(first.sent.back()), nonce_of(second.sent[0]));
}

TEST_F(SiblingTest, ACaRepeatingAUsedNonceIsAskedABoundedNumberOfTimes) {
  auto s = open();
  HttpResponse same;
  same.status = 200;
  same.headers.push_back({"Replay-Nonce", "always-the-same"});
  first.add(Method::Head, "https://ca.test/nonce", same);
  first.add(Method::Post, "https://ca.test/a", reply_without_nonce(200, "{}"));
  ASSERT_TRUE(s.post_as_get("https://ca.test/a", "a"));
  for (int i = 0; i < 8; ++i) first.add(Method::Head, "https://ca.test/nonce", same);
  auto r = s.post_as_get("https://ca.test/b", "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
  EXPECT_NE(r.error().message.find("still none after 8"), std::string::npos) << r.error().message;
  EXPECT_TRUE(first.script.empty());
}

}  // namespace
}  // namespace certagent::protocol
