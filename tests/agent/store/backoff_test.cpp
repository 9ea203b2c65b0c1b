// Per-certificate failure back-off: the schedule, permanent errors, Retry-After, persistence.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <functional>

#include "agent/store/backoff.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr int kSeeds = 200;
const TimePoint t0{std::chrono::sys_days{std::chrono::year{2025} / 6 / 1}};

Error transport() { return Error(ErrorKind::Transport, "connecting to ca.example:443: connection refused", true); }
Error bad_csr() {
  Error e(ErrorKind::Rejected, "finalizing order: the CA refused the CSR");
  e.problem_type = std::string(bad_csr_problem);
  return e;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The schedule as the documentation states it: the n-th consecutive transient failure waits
// min(1 minute * 2^(n-1), 6 hours), made up to 20% shorter by jitter.
Seconds longest_delay(unsigned n) {
  Seconds d = 1min;
  for (unsigned i = 1; i < n; ++i) d = std::min<Seconds>(d * 2, 6h);
  return d;
}
Seconds shortest_delay(unsigned n) { return longest_delay(n) * 8 / 10; }

// Attempts in [0, span) for a CA that fails every one, with the given delay per failure count.
int attempts_within(Seconds span, const std::function<Seconds(unsigned)>& delay) {
  int attempts = 0;
  for (Seconds t{}; t < span; t += delay(static_cast<unsigned>(attempts))) ++attempts;
  return attempts;
}

TEST(Backoff, EachTransientFailureWaitsWithinTheDoublingScheduleUpToTheCap) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    Rng rng(static_cast<std::uint64_t>(seed));
    BackoffState s;
    TimePoint now = t0;
    for (unsigned n = 1; n <= 16; ++n) {
      s = record_failure(s, transport(), now, rng);
      ASSERT_EQ(s.consecutive_failures, n);
      ASSERT_FALSE(s.permanent);
      const Seconds waited = *s.next_attempt - now;
      ASSERT_LE(waited, longest_delay(n)) << "failure " << n;
      ASSERT_GE(waited, shortest_delay(n)) << "failure " << n;
      ASSERT_LE(waited, 6h);
      now = *s.next_attempt;
    }
  }
}

TEST(Backoff, JitterSpreadsTheDelays) {
  Seconds lo = Seconds::max(), hi = Seconds::min();
  for (int seed = 0; seed < kSeeds; ++seed) {
    Rng rng(static_cast<std::uint64_t>(seed));
    const Seconds d = failure_delay(transport(), BackoffState{}, rng);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, 52s);
  EXPECT_GT(hi, 56s);
}

TEST(Backoff, CaDownFor72HoursAttemptCountFollowsTheSchedule) {
  const Seconds span = 72h;
  // Fewest attempts: every delay at its longest; most: every delay at its shortest.
  const int fewest = attempts_within(span, [](unsigned n) { return longest_delay(n); });
  const int most = attempts_within(span, [](unsigned n) { return shortest_delay(n); });
  ASSERT_LT(fewest, most);
  for (int seed = 0; seed < kSeeds; ++seed) {
    Rng rng(static_cast<std::uint64_t>(seed));
    BackoffState s;
    int attempts = 0;
    for (TimePoint now = t0; now < t0 + span; now = *s.next_attempt) {
      ASSERT_TRUE(attempt_allowed(s, now));
      s = record_failure(s, transport(), now, rng);
      ++attempts;
    }
    EXPECT_GE(attempts, fewest) << "seed " << seed;
    EXPECT_LE(attempts, most) << "seed " << seed;
  }
}

TEST(Backoff, RestartInTheMiddleOfABackoffContinuesUnchanged) {
  Rng rng(42);
  BackoffState s;
  TimePoint now = t0;
  for (int i = 0; i < 5; ++i) {
    s = record_failure(s, transport(), now, rng);
    now = *s.next_attempt;
  }
  const TimePoint mid = *s.last_attempt + (*s.next_attempt - *s.last_attempt) / 2;  // the restart
  auto restored = backoff_state_from_json(json::serialize(to_json(s)));
  ASSERT_TRUE(restored.has_value()) << restored.error().message;
  EXPECT_EQ(*restored, s);
  EXPECT_EQ(restored->next_attempt, s.next_attempt);
  EXPECT_FALSE(attempt_allowed(*restored, mid));
  EXPECT_EQ(earliest_attempt(*restored, mid), *s.next_attempt);
  // Continuing from the restored state is continuing from the original one.
  Rng a(7), b(7);
  EXPECT_EQ(record_failure(*restored, transport(), *s.next_attempt, a),
            record_failure(s, transport(), *s.next_attempt, b));
  EXPECT_EQ(record_failure(*restored, transport(), *s.next_attempt, rng).consecutive_failures, 6u);
}

TEST(Backoff, RestartsEveryAttemptDuring72HoursKeepTheSameSchedule) {
  const int fewest = attempts_within(72h, [](unsigned n) { return longest_delay(n); });
  const int most = attempts_within(72h, [](unsigned n) { return shortest_delay(n); });
  Rng rng(9);
  BackoffState s;
  int attempts = 0;
  for (TimePoint now = t0; now < t0 + 72h; now = *s.next_attempt) {
    s = record_failure(s, transport(), now, rng);
    auto reloaded = backoff_state_from_json(json::serialize(to_json(s)));
    ASSERT_TRUE(reloaded.has_value()) << reloaded.error().message;
    s = *reloaded;
    ++attempts;
  }
  EXPECT_GE(attempts, fewest);
  EXPECT_LE(attempts, most);
}

TEST(Backoff, PermanentErrorsAreTriedAtMostOnceADay) {
  for (ErrorKind kind : {ErrorKind::Rejected, ErrorKind::Unauthorized, ErrorKind::Policy}) {
    Rng rng(1);
    BackoffState s;
    std::vector<TimePoint> attempts;
    for (TimePoint now = t0; now < t0 + std::chrono::days{10}; now += 1min) {  // a loop polling every minute
      if (!attempt_allowed(s, now)) continue;
      attempts.push_back(now);
      s = record_failure(s, Error(kind, "new-order: the CA refused"), now, rng);
      ASSERT_TRUE(s.permanent) << to_string(kind);
    }
    for (std::size_t i = 1; i < attempts.size(); ++i) {
      EXPECT_GE(attempts[i] - attempts[i - 1], 24h) << to_string(kind);
      EXPECT_LE(attempts[i] - attempts[i - 1], 25h + 1min) << to_string(kind);
    }
    // Once a day plus up to an hour of jitter (and a minute of polling granularity).
    const int fewest = attempts_within(std::chrono::days{10}, [](unsigned) { return Seconds{25h + 1min}; });
    const int most = attempts_within(std::chrono::days{10}, [](unsigned) { return Seconds{24h}; });
    EXPECT_GE(static_cast<int>(attempts.size()), fewest);
    EXPECT_LE(static_cast<int>(attempts.size()), most);
    EXPECT_TRUE(contains(describe(s, t0), "PERMANENT error")) << describe(s, t0);
    EXPECT_TRUE(contains(describe(s, t0), "at most one attempt a day")) << describe(s, t0);
  }
}

TEST(Backoff, TransientKindsAreNotPermanent) {
  for (ErrorKind kind : {ErrorKind::Transport, ErrorKind::ServerInternal, ErrorKind::RateLimited, ErrorKind::Timeout,
                         ErrorKind::BadNonce, ErrorKind::Protocol, ErrorKind::Storage, ErrorKind::Crypto}) {
    EXPECT_FALSE(is_permanent(Error(kind, "x"), BackoffState{})) << to_string(kind);
  }
}

TEST(Backoff, BadCsrIsPermanentOnlyTheSecondTimeInARow) {
  Rng rng(1);
  const BackoffState once = record_failure(BackoffState{}, bad_csr(), t0, rng);
  EXPECT_FALSE(once.permanent);
  EXPECT_LE(*once.next_attempt - t0, 1min);
  const BackoffState twice = record_failure(once, bad_csr(), *once.next_attempt, rng);
  EXPECT_TRUE(twice.permanent);
  EXPECT_GE(*twice.next_attempt - *once.next_attempt, 24h);
  // Not "twice" when something else came between, or a success did.
  const BackoffState other = record_failure(record_failure(BackoffState{}, transport(), t0, rng), bad_csr(), t0, rng);
  EXPECT_FALSE(other.permanent);
  const BackoffState healed = record_failure(record_success(once, t0 + 1h), bad_csr(), t0 + 2h, rng);
  EXPECT_FALSE(healed.permanent);
}

TEST(Backoff, ALongerRetryAfterIsHonouredAShorterOneIsNot) {
  struct Case { Seconds retry_after; Seconds lo; Seconds hi; };
  for (const Case& c : {Case{2h, 2h, 2h}, Case{10s, 48s, 1min}, Case{std::chrono::days{30}, std::chrono::days{7}, std::chrono::days{7}}}) {
    Error e(ErrorKind::RateLimited, "new-order: too many certificates", true);
    e.retry_after = c.retry_after;
    Rng rng(3);
    const BackoffState s = record_failure(BackoffState{}, e, t0, rng);
    EXPECT_GE(*s.next_attempt - t0, c.lo);
    EXPECT_LE(*s.next_attempt - t0, c.hi);
  }
  Error permanent(ErrorKind::Unauthorized, "account deactivated");
  permanent.retry_after = 48h;
  Rng rng(3);
  EXPECT_EQ(failure_delay(permanent, BackoffState{}, rng), 48h);
}

TEST(Backoff, SuccessClearsTheWaitAndRestartsTheScheduleAtOneMinute) {
  Rng rng(5);
  BackoffState s;
  for (int i = 0; i < 8; ++i) s = record_failure(s, transport(), t0, rng);
  s = record_success(s, t0 + 1h);
  EXPECT_EQ(s.consecutive_failures, 0u);
  EXPECT_TRUE(attempt_allowed(s, t0 + 1h));
  EXPECT_EQ(s.last_success, t0 + 1h);
  EXPECT_EQ(describe(s, t0 + 1h), "no failures");
  s = record_failure(s, transport(), t0 + 2h, rng);
  EXPECT_LE(*s.next_attempt - (t0 + 2h), 1min);
}

TEST(Backoff, PolicyChangeLiftsAPermanentWait) {
  Rng rng(5);
  BackoffState s = record_success(BackoffState{}, t0);
  s = record_failure(s, Error(ErrorKind::Policy, "no SIP domain"), t0 + 1h, rng);
  ASSERT_FALSE(attempt_allowed(s, t0 + 2h));
  const BackoffState reset = reset_after_policy_change(s);
  EXPECT_TRUE(attempt_allowed(reset, t0 + 2h));
  EXPECT_FALSE(reset.permanent);
  EXPECT_EQ(reset.last_success, t0);
}

TEST(Backoff, LiftingTheWaitAllowsAnAttemptButKeepsTheCountSoAFailureWaitsLonger) {
  Rng rng(3);
  BackoffState s = record_failure(BackoffState{}, transport(), t0, rng);
  s = record_failure(s, transport(), t0 + 1min, rng);
  ASSERT_FALSE(attempt_allowed(s, t0 + 2min));
  const BackoffState lifted = lift_wait(s);
  EXPECT_TRUE(attempt_allowed(lifted, t0 + 2min));
  EXPECT_EQ(lifted.consecutive_failures, 2u);
  EXPECT_EQ(lifted.last_error_message, s.last_error_message);
  // The third failure in a row waits at least 4 minutes less 20% jitter, not the first step.
  const BackoffState again = record_failure(lifted, transport(), t0 + 2min, rng);
  EXPECT_EQ(again.consecutive_failures, 3u);
  EXPECT_GE(*again.next_attempt - (t0 + 2min), Seconds(192));
  // And a success clears it all.
  const BackoffState fixed = record_success(lifted, t0 + 2min);
  EXPECT_EQ(fixed.consecutive_failures, 0u);
  EXPECT_FALSE(fixed.next_attempt);
}

TEST(Backoff, DescribeSaysWhenAndWhy) {
  Rng rng(1);
  const BackoffState s = record_failure(record_failure(BackoffState{}, transport(), t0, rng), transport(), t0 + 1min, rng);
  const std::string line = describe(s, t0 + 1min);
  EXPECT_TRUE(contains(line, "retry at " + format_rfc3339(*s.next_attempt))) << line;
  EXPECT_TRUE(contains(line, "after 2 consecutive failures")) << line;
  EXPECT_TRUE(contains(line, "transport: connecting to ca.example:443")) << line;
}

// ---- persistence -----------------------------------------------------------------------------

BackoffState sample() {
  Rng rng(11);
  BackoffState s = record_success(BackoffState{}, t0 - 24h);
  s = record_failure(s, bad_csr(), t0, rng);
  return record_failure(s, bad_csr(), t0 + 1min, rng);
}

TEST(BackoffJson, RoundTripsEveryField) {
  const BackoffState s = sample();
  ASSERT_TRUE(s.permanent);
  const auto back = backoff_state_from_json(to_json(s));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, s);
  const auto empty = backoff_state_from_json(json::serialize(to_json(BackoffState{})));
  ASSERT_TRUE(empty.has_value()) << empty.error().message;
  EXPECT_EQ(*empty, BackoffState{});
}

TEST(BackoffJson, EveryErrorKindNameRoundTrips) {
  for (int i = 0; i <= static_cast<int>(ErrorKind::Cancelled); ++i) {
    const auto kind = static_cast<ErrorKind>(i);
    EXPECT_EQ(error_kind_from_string(to_string(kind)), kind);
  }
  EXPECT_FALSE(error_kind_from_string("unknown").has_value());
  EXPECT_FALSE(error_kind_from_string("").has_value());
}

TEST(BackoffJson, BadBytesInAnErrorMessageStillMakeAReadableFile) {
  BackoffState s = sample();
  // Stray bytes, an overlong '/', a UTF-16 surrogate, a truncated sequence; the euro sign and
  // the emoji are well-formed and stay.
  s.last_error_message = "CA said \xff\xfe \xe2\x82\xac \xc0\xaf \xed\xa0\x80 \xf0\x9f\x98\x80 \xf0\x9f done" +
                         std::string(10000, 'x');
  const auto back = backoff_state_from_json(json::serialize(to_json(s)));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_TRUE(contains(back->last_error_message, "CA said ?? \xe2\x82\xac ?? ??? \xf0\x9f\x98\x80 ?? done"))
      << back->last_error_message;
  EXPECT_LE(back->last_error_message.size(), 4096u);
}

struct CorruptCase {
  const char* name;
  std::function<void(json::object&)> spoil;
  const char* says;
};

void PrintTo(const CorruptCase& c, std::ostream* os) { *os << c.name; }

class CorruptState : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(CorruptState, IsAClearStorageError) {
  json::object o = to_json(sample()).as_object();
  GetParam().spoil(o);
  const auto r = backoff_state_from_json(json::value(o));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::Storage);
  EXPECT_TRUE(contains(r.error().message, "reading the back-off state")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, GetParam().says)) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Documents, CorruptState,
    ::testing::Values(
        CorruptCase{"MissingKey", [](json::object& o) { o.erase("next_attempt"); }, "missing key \"next_attempt\""},
        CorruptCase{"UnknownKey", [](json::object& o) { o["retries"] = 3; }, "unknown key \"retries\""},
        CorruptCase{"OtherFormat", [](json::object& o) { o["format"] = 2; }, "format 2"},
        CorruptCase{"NegativeFailures", [](json::object& o) { o["consecutive_failures"] = -1; }, "outside"},
        CorruptCase{"FailuresAsText", [](json::object& o) { o["consecutive_failures"] = "3"; }, "not an integer"},
        CorruptCase{"TimeAsText", [](json::object& o) { o["last_attempt"] = "2025-06-01"; }, "\"last_attempt\" is not an integer"},
        CorruptCase{"TimeAtEpoch", [](json::object& o) { o["last_success"] = 0; }, "outside"},
        CorruptCase{"TimeAfter9999", [](json::object& o) { o["next_attempt"] = std::int64_t{400000000000}; }, "outside"},
        CorruptCase{"PermanentNotBool", [](json::object& o) { o["permanent"] = 1; }, "not a boolean"},
        CorruptCase{"UnknownKind", [](json::object& o) { o["last_error_kind"] = "gremlins"; }, "not an error kind"},
        CorruptCase{"MessageNotText", [](json::object& o) { o["last_error_message"] = 5; }, "not a string"},
        CorruptCase{"MessageTooLong", [](json::object& o) { o["last_error_message"] = std::string(5000, 'x'); }, "longer than"},
        CorruptCase{"NextBeforeLast",
                    [](json::object& o) { o["next_attempt"] = o["last_attempt"].as_int64() - 1; }, "before last_attempt"},
        CorruptCase{"WaitWithoutFailures", [](json::object& o) { o["consecutive_failures"] = 0; }, "without any failure"},
        CorruptCase{"FailuresWithoutWait",
                    [](json::object& o) { o["next_attempt"] = nullptr; }, "without last_attempt, next_attempt"}),
    [](const auto& info) { return std::string(info.param.name); });

// Found by fuzz_backoff_state: a damaged file's unknown key or error kind was copied raw (and
// whole) into the message, so an ESC sequence in the file reached the log.
TEST(BackoffJson, DocumentTextInMessagesIsEscapedAndShort) {
  for (const char* key : {"unknown", "last_error_kind"}) {
    json::object o = to_json(sample()).as_object();
    const std::string hostile = "\x1b[2J\x7f\xc3\xa9" + std::string(500, 'k');
    if (std::string_view(key) == "unknown") o[hostile] = 1;
    else o["last_error_kind"] = hostile;
    const auto r = backoff_state_from_json(json::serialize(o));
    ASSERT_FALSE(r.has_value()) << key;
    EXPECT_TRUE(contains(r.error().message, "\\x1b[2J\\x7f\xc3\xa9kkk")) << r.error().message;  // é as written
    EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
    EXPECT_LT(r.error().message.size(), 200u) << r.error().message;
  }
}

TEST(BackoffJson, NotJsonOrNotAnObjectIsRefused) {
  for (const char* text : {"", "{", "{\"format\":1,}", "[1,2]", "null", "\"state\""}) {
    const auto r = backoff_state_from_json(std::string_view(text));
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().kind, ErrorKind::Storage);
    EXPECT_TRUE(contains(r.error().message, "not valid JSON") || contains(r.error().message, "not a JSON object"))
        << r.error().message;
  }
}

// An order pending at the CA: the next check is the one given, and it does not grow the back-off.
TEST(Backoff, APendingOrderIsCheckedAtTheGivenTimeWithoutGrowingTheBackOff) {
  BackoffState before;
  before.consecutive_failures = 3;
  const Error pending(ErrorKind::Timeout, "waiting for the CA: pending at the CA", true);
  auto s = record_pending(before, pending, t0, t0 + 1h);
  EXPECT_EQ(s.next_attempt, t0 + 1h);
  EXPECT_EQ(s.consecutive_failures, 3u) << "not one more failure";
  EXPECT_FALSE(s.permanent);
  EXPECT_EQ(s.last_error_message, pending.message);
  EXPECT_EQ(record_pending(BackoffState{}, pending, t0, t0 + 1min).consecutive_failures, 1u) << "status shows it";
}

TEST(Backoff, APendingOrdersRetryAfterIsClampedToOneMinuteAndOneDay) {
  Error pending(ErrorKind::Timeout, "pending at the CA", true);
  EXPECT_EQ(pending_check_delay(pending), Seconds(60)) << "none: the minimum";
  pending.retry_after = std::chrono::seconds(0);
  EXPECT_EQ(pending_check_delay(pending), Seconds(60)) << "0: the minimum, never a busy loop";
  pending.retry_after = std::chrono::seconds(600);
  EXPECT_EQ(pending_check_delay(pending), Seconds(600));
  pending.retry_after = std::chrono::seconds(999999999);
  EXPECT_EQ(pending_check_delay(pending), Seconds(24 * 3600));
}

}  // namespace
}  // namespace certagent::agent
