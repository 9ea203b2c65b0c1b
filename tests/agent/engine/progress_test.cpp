// The progress line of a long batch (issue 26 item 4): what it counts, and that it is logged
// every interval while the work lasts and not at all when the work ends first.
#include "agent/engine/progress.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/store/logging.hpp"
#include "support/log_capture.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Everything the engine's logger writes meanwhile.
struct EngineLog : certagent::testing::LogCapture {
  EngineLog() : certagent::testing::LogCapture(*module_logger("engine")) {}
};

TEST(BatchProgress, CountsDoneFailedAndNamesWhatIsInProgress) {
  BatchProgress p({"web-1", "web-2", "web-3", "web-4"});
  EXPECT_EQ(p.describe(), "0 of 4 done");
  p.started(0);
  p.started(1);
  p.ended(0, false);
  p.started(2);
  p.ended(2, true);
  EXPECT_EQ(p.describe(), "2 of 4 done (1 failed), 1 in progress: web-2 (for 0s)");
}

TEST(BatchProgress, ShowsAtMostEightOfWhatIsInProgress) {
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("c" + std::to_string(i));
  BatchProgress p(names);
  for (std::size_t i = 0; i < 20; ++i) p.started(i);
  const auto line = p.describe();
  EXPECT_THAT(line, HasSubstr("20 in progress: c0 (for 0s)"));
  EXPECT_THAT(line, HasSubstr("c7 (for 0s), ..."));
  EXPECT_EQ(line.find("c8 "), std::string::npos) << line;
}

TEST(ProgressReporter, LogsEveryIntervalWhileTheWorkLasts) {
  EngineLog log;
  BatchProgress p({"web-1"});
  p.started(0);
  const auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration lasted{};
  {
    ProgressReporter r("ordering", p, 100ms);
    // Until the second line, at most 10 s however loaded the machine.
    for (auto until = t0 + 10s; log.lines().size() < 2 && std::chrono::steady_clock::now() < until;)
      std::this_thread::sleep_for(5ms);
    lasted = std::chrono::steady_clock::now() - t0;
  }
  const auto lines = log.lines();
  ASSERT_GE(lines.size(), 2u);
  EXPECT_GE(lasted, 200ms) << "two lines before two intervals: not one per interval";
  ASSERT_LE(lines.size(), 3u) << "a line more than the work's wait asked for";
  EXPECT_THAT(lines.front(), HasSubstr("ordering: 0 of 1 done, 1 in progress: web-1 (for 0s)"));
}

TEST(ProgressReporter, SaysNothingWhenTheWorkEndsWithinTheFirstInterval) {
  EngineLog log;
  BatchProgress p({"web-1"});
  const auto t0 = std::chrono::steady_clock::now();
  { ProgressReporter r("ordering", p, 10s); }
  EXPECT_TRUE(log.lines().empty());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "the reporter must not hold the pass up";
}

}  // namespace
}  // namespace certagent::agent
