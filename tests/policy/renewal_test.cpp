// When to renew: the lifetime rule with its jitter, ARI windows, the policy's `renewal`, near expiry.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <variant>

#include "policy/renewal.hpp"

namespace certagent::policy {
namespace {

using namespace std::chrono_literals;
using std::chrono::days;
using std::chrono::hours;

// The policy's `renewal` other than "auto", as these tests write it: a lead time ("20d") or the
// fraction of the lifetime that remains ("50%" = 0.5).
struct RenewBefore {
  std::variant<Seconds, double> value;
  operator Renewal() const {  // NOLINT: implicit, so that `in.renewal = RenewBefore{...}` reads as the setting
    if (const auto* d = std::get_if<Seconds>(&value)) return Renewal{Renewal::Mode::BeforeExpiry, 1.0 / 3.0, *d};
    return Renewal{Renewal::Mode::RemainingFraction, std::get<double>(value), Seconds{0}};
  }
};

constexpr int kSeeds = 500;
const TimePoint issued{std::chrono::sys_days{std::chrono::year{2025} / 3 / 1} + 10h};

RenewalInput cert(Seconds lifetime) { return {issued, issued + lifetime, std::nullopt, {}, std::nullopt}; }

RenewalDecision decide(const RenewalInput& in, TimePoint now, std::uint64_t seed = 1) {
  Rng rng(seed);
  auto d = decide_renewal(in, now, rng);
  EXPECT_TRUE(d.has_value()) << d.error().message;
  return d.value_or(RenewalDecision{});
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---- the default lifetime rule ---------------------------------------------------------------

struct LifetimeCase {
  const char* name;
  Seconds lifetime;
  Seconds remaining_at_base;  // how much lifetime is left at the un-jittered renewal point
  Seconds max_jitter;         // renewal happens up to this much earlier than that point
};

void PrintTo(const LifetimeCase& c, std::ostream* os) { *os << c.name; }

class LifetimeRule : public ::testing::TestWithParam<LifetimeCase> {};

TEST_P(LifetimeRule, RenewalPointAndJitterBoundsOverManySeeds) {
  const auto& c = GetParam();
  const RenewalInput in = cert(c.lifetime);
  const TimePoint base = in.not_after - c.remaining_at_base;
  TimePoint earliest = TimePoint::max(), latest = TimePoint::min();
  for (int seed = 0; seed < kSeeds; ++seed) {
    const auto d = decide(in, issued, static_cast<std::uint64_t>(seed));
    ASSERT_EQ(d.basis, RenewalBasis::Lifetime) << d.reason;
    ASSERT_FALSE(d.due) << d.reason;
    ASSERT_LE(d.renew_at, base) << d.reason;
    ASSERT_GE(d.renew_at, base - c.max_jitter) << d.reason;
    ASSERT_EQ(d.selected, d.renew_at);
    ASSERT_EQ(d.wake_at, d.renew_at);
    ASSERT_FALSE(d.ari_recheck_at.has_value());
    earliest = std::min(earliest, d.renew_at);
    latest = std::max(latest, d.renew_at);
  }
  // The jitter is really spread over its range, not a constant.
  EXPECT_GT(latest - earliest, c.max_jitter * 8 / 10) << c.name;
}

TEST_P(LifetimeRule, DueExactlyAtTheSelectedPointNotBefore) {
  const auto& c = GetParam();
  const RenewalInput in = cert(c.lifetime);
  const auto first = decide(in, issued, 7);
  const auto before = decide(in, first.renew_at - 1s, 7);
  EXPECT_FALSE(before.due) << before.reason;
  EXPECT_TRUE(contains(before.reason, "wait until " + format_rfc3339(first.renew_at))) << before.reason;
  const auto at = decide(in, first.renew_at, 7);
  EXPECT_TRUE(at.due) << at.reason;
  EXPECT_TRUE(contains(at.reason, "renew now")) << at.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Certificates, LifetimeRule,
    ::testing::Values(LifetimeCase{"6-day", days{6}, days{3}, Seconds{6 * 86400 / 30}},          // 1/2, 4.8 h
                      LifetimeCase{"45-day", days{45}, days{15}, days{1}},                       // 1/3, capped
                      LifetimeCase{"90-day", days{90}, days{30}, days{1}},
                      LifetimeCase{"1-year", days{365}, Seconds{365 * 86400 / 3}, days{1}},
                      LifetimeCase{"just under 10 days", days{10} - 1s, (days{10} - 1s) / 2, (days{10} - 1s) / 30},
                      LifetimeCase{"exactly 10 days", days{10}, Seconds{days{10}} / 3, Seconds{days{10}} / 30}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (auto& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST(Renewal, ReasonNamesTheRuleAndTheLifetime) {
  const auto d = decide(cert(days{90}), issued);
  EXPECT_TRUE(contains(d.reason, "1/3 of the 90d lifetime")) << d.reason;
  const auto s = decide(cert(days{6}), issued);
  EXPECT_TRUE(contains(s.reason, "1/2 of the 6d lifetime")) << s.reason;
}

TEST(Renewal, PreviousSelectionIsKeptSoWakingUpDoesNotRerollTheDice) {
  RenewalInput in = cert(days{90});
  const auto first = decide(in, issued, 1);
  in.previous_selection = first.selected;
  for (std::uint64_t seed = 2; seed < 50; ++seed) EXPECT_EQ(decide(in, issued + days{3}, seed).renew_at, first.renew_at);
  in.previous_selection = issued;  // outside the jitter range: drawn again
  EXPECT_NE(decide(in, issued, 1).renew_at, issued);
}

// ---- ARI windows -----------------------------------------------------------------------------

RenewalInput with_ari(Seconds lifetime, Seconds start_after_issue, Seconds length,
                      std::optional<Seconds> retry_after = std::nullopt) {
  RenewalInput in = cert(lifetime);
  in.ari = AriWindow{issued + start_after_issue, issued + start_after_issue + length, retry_after};
  return in;
}

TEST(Ari, FutureWindowIsAUniformPointInsideIt) {
  // A window later than the 1/3 point: ARI replaces the lifetime rule.
  const RenewalInput in = with_ari(days{90}, days{70}, days{2});
  TimePoint earliest = TimePoint::max(), latest = TimePoint::min();
  for (int seed = 0; seed < kSeeds; ++seed) {
    const auto d = decide(in, issued, static_cast<std::uint64_t>(seed));
    ASSERT_EQ(d.basis, RenewalBasis::AriWindow) << d.reason;
    ASSERT_FALSE(d.due);
    ASSERT_GE(d.renew_at, in.ari->start);
    ASSERT_LE(d.renew_at, in.ari->end);
    earliest = std::min(earliest, d.renew_at);
    latest = std::max(latest, d.renew_at);
  }
  EXPECT_GT(latest - earliest, days{2} * 8 / 10);
  // Halves of the window get about half of the draws each.
  int first_half = 0;
  for (int seed = 0; seed < kSeeds; ++seed)
    first_half += decide(in, issued, static_cast<std::uint64_t>(seed)).renew_at < in.ari->start + days{1};
  EXPECT_NEAR(first_half, kSeeds / 2, kSeeds / 10);
}

// pebble's window for a certificate of minutes is its whole lifetime: a uniform draw in it put
// renewals in the last seconds (the short-lived continuity test saw certificates expire). Where the
// lifetime rule's point lies inside the window, that point is taken.
TEST(Ari, AWindowContainingTheLifetimeRulesPointRenewsThere) {
  for (Seconds lifetime : {Seconds(60), Seconds(days{6}), Seconds(days{90})}) {
    RenewalInput in = cert(lifetime);
    in.ari = AriWindow{in.not_before, in.not_after, std::nullopt};
    const bool short_lived = lifetime < days{10};
    const TimePoint point = in.not_after - (short_lived ? lifetime / 2 : lifetime / 3);
    for (int seed = 0; seed < kSeeds; ++seed) {
      const auto d = decide(in, issued, static_cast<std::uint64_t>(seed));
      ASSERT_EQ(d.basis, RenewalBasis::AriWindow) << d.reason;
      ASSERT_LE(d.renew_at, point) << d.reason;
      ASSERT_GE(d.renew_at, point - std::min(lifetime / 30, Seconds(days{1}))) << d.reason;
    }
    EXPECT_TRUE(contains(decide(in, issued).reason, "inside the CA's ARI window")) << decide(in, issued).reason;
  }
}

TEST(Ari, WindowInThePastMeansRenewNow) {
  const RenewalInput in = with_ari(days{90}, days{1}, days{2});  // ended at day 3
  const auto d = decide(in, issued + days{10});
  EXPECT_TRUE(d.due) << d.reason;
  EXPECT_EQ(d.basis, RenewalBasis::AriWindow);
  EXPECT_TRUE(contains(d.reason, "renew now: the CA's ARI window")) << d.reason;
  EXPECT_TRUE(contains(d.reason, "has already ended")) << d.reason;
}

TEST(Ari, WindowBeforeIssuanceSignalsRevocationAndRenewsNow) {
  RenewalInput in = cert(days{90});
  in.ari = AriWindow{issued - days{2}, issued - days{1}, std::nullopt};
  EXPECT_TRUE(decide(in, issued + 1h).due);
}

TEST(Ari, WindowAroundNowRenewsNowForSomeDrawsAndSoonForOthers) {
  const RenewalInput in = with_ari(days{90}, days{40}, days{2});
  int due = 0;
  for (int seed = 0; seed < kSeeds; ++seed) due += decide(in, issued + days{41}, static_cast<std::uint64_t>(seed)).due;
  EXPECT_GT(due, kSeeds / 4);
  EXPECT_LT(due, kSeeds * 3 / 4);
}

struct MalformedCase {
  const char* name;
  TimePoint start;
  TimePoint end;
  const char* problem;
};

void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

class MalformedAri : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedAri, IsIgnoredWithTheReasonAndTheLifetimeRuleApplies) {
  const auto& c = GetParam();
  RenewalInput in = cert(days{90});
  in.ari = AriWindow{c.start, c.end, 2h};
  const auto d = decide(in, issued);
  EXPECT_EQ(d.basis, RenewalBasis::Lifetime) << d.reason;
  EXPECT_FALSE(d.due) << d.reason;
  EXPECT_TRUE(contains(d.reason, "malformed ARI window ignored")) << d.reason;
  EXPECT_TRUE(contains(d.reason, c.problem)) << d.reason;
  EXPECT_EQ(ari_window_problem(*in.ari, in.not_after).empty(), false);
  // Still asked again later: the CA may fix it.
  EXPECT_EQ(d.ari_recheck_at, issued + 2h);
}

INSTANTIATE_TEST_SUITE_P(
    Windows, MalformedAri,
    ::testing::Values(MalformedCase{"EndBeforeStart", issued + days{60}, issued + days{59}, "ends"},
                      MalformedCase{"Empty", issued + days{60}, issued + days{60}, "ends"},
                      MalformedCase{"StartsAfterExpiry", issued + days{91}, issued + days{92}, "after the certificate expires"},
                      MalformedCase{"UnsetEpoch", TimePoint{}, issued + days{60}, "absurd date"},
                      MalformedCase{"BeyondYear9999",
                                    issued + days{60},
                                    TimePoint{std::chrono::sys_days{std::chrono::year{10000} / 6 / 1}},
                                    "absurd date"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Ari, RetryAfterIsClampedBetweenAMinuteAndADay) {
  struct Case { std::optional<Seconds> given; Seconds expected; };
  for (const Case& c : {Case{std::nullopt, 6h}, Case{0s, 60s}, Case{-5s, 60s}, Case{59s, 60s}, Case{60s, 60s},
                        Case{2h, 2h}, Case{24h, 24h}, Case{72h, 24h}}) {
    EXPECT_EQ(ari_recheck_delay(c.given), c.expected);
    const auto d = decide(with_ari(days{90}, days{60}, days{2}, c.given), issued);
    EXPECT_EQ(d.ari_recheck_at, issued + c.expected);
    EXPECT_EQ(d.wake_at, std::min(d.renew_at, issued + c.expected));
  }
}

TEST(Ari, WakesForTheRecheckBeforeTheRenewalAndForTheRenewalBeforeTheRecheck) {
  const auto far = decide(with_ari(days{90}, days{60}, days{2}, 3h), issued);
  EXPECT_EQ(far.wake_at, issued + 3h);
  const auto near = decide(with_ari(days{90}, days{60}, days{2}, 24h), issued + days{60} - 1h);
  EXPECT_LE(near.wake_at, near.renew_at);
  EXPECT_TRUE(contains(far.reason, "next ARI check at " + format_rfc3339(issued + 3h))) << far.reason;
}

TEST(Ari, SelectionInsideTheWindowIsKept) {
  RenewalInput in = with_ari(days{90}, days{60}, days{2});
  in.previous_selection = in.ari->start + 5h;
  for (std::uint64_t seed = 0; seed < 20; ++seed) EXPECT_EQ(decide(in, issued, seed).renew_at, in.ari->start + 5h);
  in.ari = AriWindow{issued + days{50}, issued + days{51}, std::nullopt};  // the CA moved the window
  const auto moved = decide(in, issued);
  EXPECT_GE(moved.renew_at, in.ari->start);
  EXPECT_LE(moved.renew_at, in.ari->end);
}

// ---- renew_before ----------------------------------------------------------------------------

TEST(RenewBefore, DurationOverridesTheLifetimeRuleExactly) {
  RenewalInput in = cert(days{90});
  in.renewal = RenewBefore{days{20}};
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto d = decide(in, issued, seed);
    EXPECT_EQ(d.renew_at, in.not_after - days{20}) << d.reason;
    EXPECT_EQ(d.basis, RenewalBasis::RenewBefore);
  }
  EXPECT_TRUE(contains(decide(in, issued).reason, "the policy's renewal 20d ahead of expiry")) << decide(in, issued).reason;
}

TEST(RenewBefore, FractionOfTheLifetime) {
  RenewalInput in = cert(days{90});
  in.renewal = RenewBefore{0.5};
  EXPECT_EQ(decide(in, issued).renew_at, in.not_after - days{45});
  in.renewal = RenewBefore{0.75};  // a quarter of the lifetime in: 22.5 days after issue
  EXPECT_EQ(decide(in, issued).renew_at, in.not_before + days{22} + 12h);
  EXPECT_FALSE(decide(in, issued + days{22}).due);
  EXPECT_TRUE(decide(in, issued + days{23}).due);
}

TEST(RenewBefore, EarlierThanTheAriWindowWins) {
  RenewalInput in = with_ari(days{90}, days{70}, days{2});
  in.renewal = RenewBefore{days{40}};
  const auto d = decide(in, issued);
  EXPECT_EQ(d.basis, RenewalBasis::RenewBefore) << d.reason;
  EXPECT_EQ(d.renew_at, in.not_after - days{40});
  EXPECT_TRUE(contains(d.reason, "earlier than random point")) << d.reason;
}

TEST(RenewBefore, APastAriWindowStillRenewsNow) {
  RenewalInput in = with_ari(days{90}, days{1}, days{1});
  in.renewal = RenewBefore{days{10}};
  const auto d = decide(in, issued + days{5});
  EXPECT_TRUE(d.due) << d.reason;
  EXPECT_EQ(d.basis, RenewalBasis::AriWindow);
}

TEST(RenewBefore, ASettingThatCannotApplyFallsBackToTheLifetimeRuleWithTheReason) {
  // Not positive, or not shorter than the lifetime: every successor would be renewed at once.
  struct Case { RenewBefore value; const char* says; };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const Case& c : {Case{{0s}, "not shorter than the certificate's 90d lifetime"}, Case{{-1h}, "not shorter"},
                        Case{{days{90}}, "not shorter"}, Case{{days{400}}, "90d lifetime"},
                        Case{{0.0}, "between 0 and 1"}, Case{{1.0}, "between 0 and 1"}, Case{{1.5}, "fraction 1.5"},
                        Case{{nan}, "between 0 and 1"}}) {
    RenewalInput in = cert(days{90});
    in.renewal = c.value;
    const auto d = decide(in, issued);
    EXPECT_FALSE(d.due) << d.reason;
    EXPECT_EQ(d.basis, RenewalBasis::Lifetime) << d.reason;
    EXPECT_GE(d.renew_at, issued + days{59}) << d.reason;  // 1/3 left, at most a day of jitter earlier
    EXPECT_TRUE(contains(d.reason, c.says)) << d.reason;
    EXPECT_TRUE(contains(d.reason, "the lifetime rule applies")) << d.reason;
  }
}

TEST(RenewBefore, ALeadLongerThanAShortLifetimeRenewsAtHalfNotAtOnce) {
  RenewalInput in = cert(days{6});
  in.renewal = RenewBefore{days{30}};
  const auto d = decide(in, issued);
  EXPECT_FALSE(d.due) << d.reason;
  EXPECT_GE(d.renew_at, issued + days{3} - std::chrono::hours(5)) << d.reason;
  EXPECT_LE(d.renew_at, issued + days{3}) << d.reason;
}

TEST(Renewal, EmptyOrInvertedValidityIsRefused) {
  Rng rng(1);
  for (Seconds lifetime : {0s, -1s}) {
    const auto d = decide_renewal(cert(lifetime), issued, rng);
    ASSERT_FALSE(d.has_value());
    EXPECT_TRUE(contains(d.error().message, "validity is empty")) << d.error().message;
  }
}

// ---- near expiry -----------------------------------------------------------------------------

TEST(NearExpiry, OverridesAFutureAriWindow) {
  // 90 days: 1/20 = 4.5 days. At 3 days left the CA still suggests a window in 2 days.
  RenewalInput in = cert(days{90});
  in.ari = AriWindow{in.not_after - days{1}, in.not_after - 12h, std::nullopt};
  const auto d = decide(in, in.not_after - days{3});
  EXPECT_TRUE(d.due) << d.reason;
  EXPECT_EQ(d.basis, RenewalBasis::NearExpiry);
  EXPECT_TRUE(contains(d.reason, "less than 1/20 of the 90d lifetime is left")) << d.reason;
  EXPECT_TRUE(contains(d.reason, "overriding")) << d.reason;
}

TEST(NearExpiry, CapsALateAriWindowAtTheNearExpiryPoint) {
  RenewalInput in = cert(days{90});
  in.ari = AriWindow{in.not_after - days{2}, in.not_after - days{1}, std::nullopt};
  const auto d = decide(in, issued);
  EXPECT_FALSE(d.due);
  EXPECT_EQ(d.basis, RenewalBasis::NearExpiry);
  EXPECT_EQ(d.renew_at, in.not_after - Seconds{days{90}} / 20);
}

TEST(NearExpiry, CapsAShortRenewBefore) {
  RenewalInput in = cert(days{90});
  in.renewal = RenewBefore{days{1}};
  EXPECT_EQ(decide(in, issued).renew_at, in.not_after - Seconds{days{90}} / 20);
}

TEST(NearExpiry, OneSecondBeforeTheLastTwentiethItStillWaits) {
  RenewalInput in = cert(days{90});
  in.ari = AriWindow{in.not_after - days{4}, in.not_after - days{3}, std::nullopt};
  const TimePoint near = in.not_after - Seconds{days{90}} / 20;
  const auto before = decide(in, near - 1s);
  EXPECT_FALSE(before.due) << before.reason;
  EXPECT_EQ(before.renew_at, near);
  EXPECT_EQ(before.wake_at, near);
  EXPECT_TRUE(decide(in, near).due);
}

TEST(NearExpiry, ExpiredRenewsNow) {
  const RenewalInput in = cert(days{6});
  const auto d = decide(in, in.not_after + 1h);
  EXPECT_TRUE(d.due);
  EXPECT_EQ(d.basis, RenewalBasis::Expired);
  EXPECT_TRUE(contains(d.reason, "renew now: the certificate expired at " + format_rfc3339(in.not_after))) << d.reason;
}

// ---- the helpers -----------------------------------------------------------------------------

TEST(ScheduleTime, FormatsRfc3339AndShortDurations) {
  EXPECT_EQ(format_rfc3339(issued), "2025-03-01T10:00:00Z");
  EXPECT_EQ(format_rfc3339(TimePoint{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_duration(days{29} + 4h + 5min), "29d4h");
  EXPECT_EQ(format_duration(5h + 12min + 3s), "5h12m");
  EXPECT_EQ(format_duration(45s), "45s");
  EXPECT_EQ(format_duration(days{90}), "90d");
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(-2h), "-2h");
}

TEST(ScheduleTime, UniformTimeStaysInItsRange) {
  Rng rng(3);
  for (int i = 0; i < 1000; ++i) {
    const TimePoint t = uniform_time(issued, issued + 10s, rng);
    ASSERT_GE(t, issued);
    ASSERT_LE(t, issued + 10s);
  }
  EXPECT_EQ(uniform_time(issued, issued - 5s, rng), issued);
}

// ---- without a random draw: what `certagent plan` shows before the engine decided ------------

TEST(WithoutADraw, EachSettingGivesItsPointWithoutJitter) {
  const TimePoint start = issued;
  const TimePoint end = start + days{90};
  struct Case { const char* name; Renewal r; TimePoint want; };
  const std::vector<Case> cases = {
      {"auto: a third remains", {}, start + days{60}},
      {"25% remains", RenewBefore{0.25}, start + hours(24 * 67 + 12)},
      {"30 days before", RenewBefore{days{30}}, start + days{60}},
      {"longer than the lifetime: the automatic rule, never at once", RenewBefore{days{200}}, start + days{60}},
  };
  for (const auto& c : cases) {
    auto d = decide_renewal(RenewalInput{start, end, std::nullopt, c.r, std::nullopt}, start);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->renew_at, c.want) << c.name << ": " << d->reason;
    EXPECT_FALSE(d->due) << c.name;
  }
}

TEST(WithoutADraw, ShortLivedCertificatesRenewAtHalfTheirLifetime) {
  const auto at = [](Seconds lifetime, Renewal r = {}) {
    auto d = decide_renewal(RenewalInput{issued, issued + lifetime, std::nullopt, r, std::nullopt}, issued);
    return d ? d->renew_at : TimePoint{};
  };
  EXPECT_EQ(at(days{6}), issued + days{3});
  EXPECT_EQ(at(hours(160)), issued + hours(80));
  // A "30d" lead on a 6-day certificate would renew each successor at once: the automatic rule.
  EXPECT_EQ(at(days{6}, RenewBefore{days{30}}), issued + days{3});
}

TEST(WithoutADraw, NearExpiryStillRenewsNow) {
  const TimePoint now = issued + days{88};
  auto d = decide_renewal(RenewalInput{issued, issued + days{90}, std::nullopt, RenewBefore{days{1}}, std::nullopt}, now);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->due) << d->reason;
  EXPECT_EQ(d->basis, RenewalBasis::NearExpiry);
}

}  // namespace
}  // namespace certagent::policy
