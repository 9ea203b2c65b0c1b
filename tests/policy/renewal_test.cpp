#include <gtest/gtest.h>

#include "policy/renewal.hpp"

namespace certagent::policy {
namespace {

using std::chrono::hours;
constexpr auto kDay = hours(24);

TEST(Renewal, DueTimeForEachSetting) {
  const TimePoint start{} ;
  const TimePoint end = start + 90 * kDay;
  struct Case { const char* name; Renewal r; std::optional<TimePoint> pre; TimePoint want; };
  const std::vector<Case> cases = {
      {"auto: a third remains", {}, std::nullopt, start + 60 * kDay},
      {"25% remains", {Renewal::Mode::RemainingFraction, 0.25, {}}, std::nullopt, start + hours(24 * 67 + 12)},
      {"30 days before", {Renewal::Mode::BeforeExpiry, 0, std::chrono::seconds(30 * 86400)}, std::nullopt, start + 60 * kDay},
      {"longer than the lifetime: the automatic rule, never at once", {Renewal::Mode::BeforeExpiry, 0, std::chrono::seconds(200 * 86400)},
       std::nullopt, start + 60 * kDay},
      {"the agent's earlier time wins", {}, start + 45 * kDay, start + 45 * kDay},
      {"auto: a later ARI suggestion is followed", {}, start + 80 * kDay, start + 80 * kDay},
      {"nearness to expiry beats a later suggestion", {}, start + 88 * kDay, start + hours(24 * 85 + 12)},
      {"an explicit setting caps a later suggestion", {Renewal::Mode::BeforeExpiry, 0, std::chrono::seconds(30 * 86400)},
       start + 80 * kDay, start + 60 * kDay},
  };
  for (const auto& c : cases) EXPECT_EQ(renewal_time(start, end, c.r, c.pre), c.want) << c.name;
}

TEST(Renewal, ShortLivedCertificatesRenewAtHalfTheirLifetime) {
  const TimePoint start{};
  EXPECT_EQ(renewal_time(start, start + 6 * kDay, {}), start + 3 * kDay);
  EXPECT_EQ(renewal_time(start, start + hours(160), {}), start + hours(80));
  // A "30d" lead on a 6-day certificate would renew each successor at once: the automatic rule.
  EXPECT_EQ(renewal_time(start, start + 6 * kDay, {Renewal::Mode::BeforeExpiry, 0, std::chrono::seconds(30 * 86400)}),
            start + 3 * kDay);
}

}  // namespace
}  // namespace certagent::policy
