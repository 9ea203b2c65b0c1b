// A challenge per name: the router tells the challenge type per name, gives each solver its own
// tasks (a batch solver all of its tasks at once), and withdraws them all after the order.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "protocol/acme/authorize.hpp"
#include "protocol/acme/challenge_router.hpp"
#include "protocol/acme/order.hpp"

namespace certagent::protocol {
namespace {

// A solver of one type that records what it is given.
class Recorder : public ChallengeSolver {
 public:
  Recorder(std::string type, bool batches) : type_(std::move(type)), batches_(batches) {}
  std::string_view type() const override { return type_; }
  bool presents_batches() const override { return batches_; }
  Result<void> present(const ChallengeTask& t) override {
    if (t.identifier == fail_on) return fail(ErrorKind::Invalid, "cannot present " + t.identifier);
    presented.push_back(t.identifier);
    return ok();
  }
  Result<void> clean_up(const ChallengeTask& t) override {
    cleaned.push_back(t.identifier);
    return ok();
  }
  Result<void> present_batch(const std::vector<ChallengeTask>& tasks) override {
    batches.push_back(tasks.size());
    return ChallengeSolver::present_batch(tasks);
  }
  Result<void> await_published(const std::vector<ChallengeTask>& tasks, const Clock&, Waiter&) override {
    awaited += tasks.size();
    return ok();
  }
  Result<void> clean_up_batch(const std::vector<ChallengeTask>& tasks) override {
    clean_batches.push_back(tasks.size());
    return ChallengeSolver::clean_up_batch(tasks);
  }

  std::vector<std::string> presented, cleaned;
  std::vector<std::size_t> batches, clean_batches;
  std::size_t awaited = 0;
  std::string fail_on;

 private:
  std::string type_;
  bool batches_;
};

struct Routed {
  Recorder* http;
  Recorder* dns;
  std::unique_ptr<ChallengeRouter> router;
};

// http-01 for names outside corp.example, dns-01 (in batches) for corp.example and every wildcard.
Routed make_router() {
  auto http = std::make_unique<Recorder>("http-01", false);
  auto dns = std::make_unique<Recorder>("dns-01", true);
  Routed r{http.get(), dns.get(), nullptr};
  std::vector<std::unique_ptr<ChallengeSolver>> solvers;
  solvers.push_back(std::move(http));
  solvers.push_back(std::move(dns));
  r.router = std::make_unique<ChallengeRouter>(std::move(solvers), [](std::string_view name) -> std::size_t {
    return name.starts_with("*.") || name.ends_with("corp.example") ? 1 : 0;
  });
  return r;
}

ChallengeTask task(std::string name, std::string type, bool wildcard = false) {
  ChallengeTask t{std::move(name), std::move(type), "tok", "tok.thumb", "value"};
  t.wildcard = wildcard;
  return t;
}

class NoTime : public Clock, public Waiter {
 public:
  ClockTime now() const override { return {}; }
  Result<void> wait_until(ClockTime) override { return ok(); }
};

TEST(ChallengeRouter, TellsTheTypePerNameAndNamesBothTypes) {
  auto r = make_router();
  EXPECT_EQ(r.router->type(), "http-01+dns-01");
  EXPECT_EQ(r.router->type_for("www.example"), "http-01");
  EXPECT_EQ(r.router->type_for("a.corp.example"), "dns-01");
  EXPECT_EQ(r.router->type_for("*.example"), "dns-01");
  EXPECT_TRUE(r.router->presents_batches());
}

TEST(ChallengeRouter, EachSolverGetsItsOwnTasksTheBatchSolverInOneBatch) {
  auto r = make_router();
  const std::vector<ChallengeTask> tasks{task("www.example", "http-01"), task("a.corp.example", "dns-01"),
                                         task("example", "dns-01", true), task("api.example", "http-01")};
  ASSERT_TRUE(r.router->present_batch(tasks));
  NoTime time;
  ASSERT_TRUE(r.router->await_published(tasks, time, time));
  EXPECT_EQ(r.http->presented, (std::vector<std::string>{"www.example", "api.example"}));
  EXPECT_EQ(r.dns->presented, (std::vector<std::string>{"a.corp.example", "example"}));
  EXPECT_EQ(r.dns->batches, std::vector<std::size_t>{2});
  EXPECT_EQ(r.dns->awaited, 2u);
  ASSERT_TRUE(r.router->clean_up_batch(tasks));
  EXPECT_EQ(r.http->cleaned, (std::vector<std::string>{"www.example", "api.example"}));
  EXPECT_EQ(r.dns->clean_batches, std::vector<std::size_t>{2});
}

TEST(ChallengeRouter, AFailureSaysWhichNameAndEverythingIsWithdrawnAfterwards) {
  auto r = make_router();
  r.http->fail_on = "api.example";
  const std::vector<ChallengeTask> tasks{task("www.example", "http-01"), task("api.example", "http-01"),
                                         task("a.corp.example", "dns-01")};
  auto presented = r.router->present_batch(tasks);
  ASSERT_FALSE(presented);
  EXPECT_NE(presented.error().message.find("presenting the http-01 challenge for api.example"), std::string::npos)
      << presented.error().message;
  EXPECT_TRUE(r.dns->presented.empty());  // stopped at the first failure
  ASSERT_TRUE(r.router->clean_up_batch(tasks));
  EXPECT_EQ(r.http->cleaned.size(), 2u);  // clean_up is safe for a task never presented
  EXPECT_EQ(r.dns->clean_batches, std::vector<std::size_t>{1});
}

TEST(ChallengeRouter, ChallengeTasksTakeEachAuthorizationsTypeFromTheRouter) {
  auto r = make_router();
  const auto authz = [](const std::string& name, bool wildcard) {
    auto a = parse_authorization(
        boost::json::parse(R"({"status":"pending","identifier":{"type":"dns","value":")" + name + R"("},)" +
                           (wildcard ? R"("wildcard":true,)" : "") +
                           R"("challenges":[{"type":"http-01","url":"https://ca.test/h/)" + name +
                           R"(","status":"pending","token":"tokh"},{"type":"dns-01","url":"https://ca.test/d/)" + name +
                           R"(","status":"pending","token":"tokd"}]})")
            .as_object(),
        "https://ca.test/authz/" + name);
    EXPECT_TRUE(a) << a.error().message;
    return *a;
  };
  Order order;
  order.url = "https://ca.test/order/1";
  order.status = "pending";
  order.identifiers = {Identifier{"dns", "www.example"}, Identifier{"dns", "a.corp.example"},
                       Identifier{"dns", "*.example"}};
  std::vector<std::string> urls;
  auto tasks = challenge_tasks(order, {authz("www.example", false), authz("a.corp.example", false), authz("example", true)},
                               *r.router, "thumb", &urls);
  ASSERT_TRUE(tasks) << tasks.error().message;
  ASSERT_EQ(tasks->size(), 3u);
  EXPECT_EQ((*tasks)[0].type, "http-01");
  EXPECT_EQ((*tasks)[1].type, "dns-01");
  EXPECT_EQ((*tasks)[2].type, "dns-01");
  EXPECT_TRUE((*tasks)[2].wildcard);  // so that the router sends its clean-up to the same solver
  EXPECT_EQ(urls, (std::vector<std::string>{"https://ca.test/h/www.example", "https://ca.test/d/a.corp.example",
                                            "https://ca.test/d/example"}));
}

}  // namespace
}  // namespace certagent::protocol
