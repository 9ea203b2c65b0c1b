// Orders the CA keeps working on (item 7 of issue #16): a pass hands them back within seconds
// instead of waiting, whatever the CA's Retry-After says (thirty years, or 0 on every answer).
// `run --once` exits 3 naming the pending order and when it is checked next; the order stays
// journaled, and the next run resumes it — no second order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

#include "common/process.hpp"
#include "hostile/hostile_harness.hpp"

namespace certagent::hostile {
namespace {
namespace json = boost::json;
using ::testing::HasSubstr;

ProcessOutcome certagent(const Workspace& ws, const fs::path& policy, const std::vector<std::string>& args) {
  ProcessSpec spec;
  spec.argv = {CERTAGENT_BINARY, "--policy", policy.string(), "--state-dir", (ws.root / "state").string()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {"HOME=" + ws.home.string(), "TMPDIR=" + ws.tmp.string(), "LC_ALL=C"};
  spec.inherit_path = true;
  spec.working_dir = ws.cwd.string();
  spec.timeout = std::chrono::seconds(60);
  auto outcome = run_process(spec);
  if (!outcome) throw std::runtime_error("cannot run certagent: " + outcome.error().message);
  return *outcome;
}

fs::path write_policy(const Workspace& ws, const HostileCa& ca, int http01_port) {
  const auto names = requested_names();
  const json::object policy{
      {"ca", json::object{{"directory", ca.directory()}, {"trust_bundle", ca.trust().string()}}},
      {"challenge", json::object{{"type", "http-01"}, {"listen", "127.0.0.1:" + std::to_string(http01_port)}}},
      {"roles", json::array{json::object{{"role", "custom"}, {"id", "web"},
                                         {"names", json::object{{"https", json::array(names.begin(), names.end())}}}}}}};
  const fs::path file = ws.root / "policy.json";
  std::ofstream(file) << json::serialize(policy) << "\n";
  return file;
}

class HostilePending : public ::testing::TestWithParam<const char*> {};

TEST_P(HostilePending, RunOnceHandsThePendingOrderBackAndTheNextRunResumesIt) {
  Workspace ws;
  const int port = free_port();
  HostileCa ca(ws, GetParam(), port);
  ASSERT_TRUE(ca.ready()) << ca.failure();
  const fs::path policy = write_policy(ws, ca, port);
  auto first = certagent(ws, policy, {"run", "--once"});
  EXPECT_EQ(first.exit_code, 3) << first.err;
  EXPECT_LT(first.elapsed, std::chrono::seconds(30));
  EXPECT_THAT(first.err, HasSubstr("pending at the CA, next check at"));
  EXPECT_EQ(ca.requests("/order/new"), 1u);
  auto status = certagent(ws, policy, {"status"});
  EXPECT_THAT(status.out + status.err, HasSubstr("pending at the CA")) << status.out;
  auto again = certagent(ws, policy, {"run", "--once", "--now"});
  EXPECT_EQ(again.exit_code, 3) << again.err;
  EXPECT_THAT(again.err, HasSubstr("resuming order"));
  EXPECT_EQ(ca.requests("/order/new"), 1u) << "the same order, not a second one";
}

// A journaled order is resumed only when the CA says it is for the names the policy requires:
// a CA that answers the journaled URL with other names gets a new order, and no challenge (or
// dns-01 hook) is answered for its names.
TEST(HostileResume, AJournaledOrderTheCaNowSaysIsForOtherNamesIsDroppedForANewOrder) {
  Workspace ws;
  const int port = free_port();
  HostileCa ca(ws, "poll-then-other-names", port);
  ASSERT_TRUE(ca.ready()) << ca.failure();
  const fs::path policy = write_policy(ws, ca, port);
  auto first = certagent(ws, policy, {"run", "--once"});
  EXPECT_EQ(first.exit_code, 3) << first.err;
  EXPECT_EQ(ca.requests("/order/new"), 1u);
  auto again = certagent(ws, policy, {"run", "--once", "--now"});
  EXPECT_THAT(again.err, HasSubstr("not resuming the journaled order: the CA's order is for other names"));
  EXPECT_THAT(again.err, ::testing::Not(HasSubstr("resuming order")));
  EXPECT_EQ(ca.requests("/order/new"), 2u) << "a new order for the required names";
}

INSTANTIATE_TEST_SUITE_P(RetryAfter, HostilePending,
                         ::testing::Values("poll-retry-after-30y", "poll-retry-after-zero"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace certagent::hostile
