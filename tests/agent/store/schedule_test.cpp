// <state>/schedule/<certificate-id>.json: round trip, strict reading, ids as file names, the
// writer lock, listing with problems.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "agent/store/schedule.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

ScheduleRecord sample() {
  ScheduleRecord r;
  r.certificate_id = "front-end";
  r.purposes = {"Default", "WebServicesInternal"};
  r.renew_at = TimePoint{Seconds{1748736420}};
  r.selected = r.renew_at;
  r.basis = policy::RenewalBasis::AriWindow;
  r.ari_fetched_at = TimePoint{Seconds{1746133200}};
  r.decision = "wait until 2025-06-01T00:07:00Z (in 29d): 1/3 of the 90d lifetime remains";
  r.decided_at = TimePoint{Seconds{1746144000}};
  r.backoff.consecutive_failures = 3;
  r.backoff.last_attempt = TimePoint{Seconds{1746144000}};
  r.backoff.next_attempt = TimePoint{Seconds{1746144240}};
  r.backoff.last_error_kind = ErrorKind::Transport;
  r.backoff.last_error_message = "connecting to ca.example:443: connection refused";
  return r;
}

TEST(ScheduleStore, RoundTripsThroughTheStateDirectory) {
  TempDir t;
  auto store = Store::open(t.path(), {.write = true});
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE(write_schedule(SharedStore(*store).lock(), sample()));
  const fs::path file = t.path() / "schedule" / "front-end.json";
  EXPECT_EQ(schedule_path(t.path(), "front-end"), file);
  struct stat st {};
  ASSERT_EQ(::stat((t.path() / "schedule").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  auto back = read_schedule(t.path(), "front-end");
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(*back);
  EXPECT_EQ(**back, sample());
  EXPECT_EQ(read_schedule(t.path(), "other").value(), std::nullopt);
  ASSERT_TRUE(remove_schedule(SharedStore(*store).lock(), "front-end"));
  EXPECT_EQ(read_schedule(t.path(), "front-end").value(), std::nullopt);
}

TEST(ScheduleStore, NextAttemptIsTheRenewalTimePushedBackByTheBackoff) {
  ScheduleRecord r = sample();
  EXPECT_EQ(next_attempt_time(r), r.renew_at);  // renew_at is later than the back-off
  r.renew_at = TimePoint{Seconds{1746000000}};
  EXPECT_EQ(next_attempt_time(r), r.backoff.next_attempt);
  r.renew_at.reset();
  EXPECT_EQ(next_attempt_time(r), r.backoff.next_attempt);
  EXPECT_EQ(next_attempt_time(ScheduleRecord{}), std::nullopt);
}

TEST(ScheduleStore, NeedsTheWriterLock) {
  TempDir t;
  { auto w = Store::open(t.path(), {.write = true}); ASSERT_TRUE(w); }
  auto reader = Store::open(t.path());
  ASSERT_TRUE(reader);
  auto r = write_schedule(SharedStore(*reader).lock(), sample());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("read-only"), std::string::npos) << r.error().message;
}

TEST(ScheduleStore, CertificateIdsMustBeFileNames) {
  for (const char* bad : {"", ".hidden", "a/b", "../x", "a b", "é"}) {
    auto r = check_certificate_id(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
  }
  EXPECT_FALSE(check_certificate_id(std::string(65, 'a')));
  EXPECT_TRUE(check_certificate_id("front-end-WebServicesExternal"));
  EXPECT_FALSE(read_schedule("/nonexistent", "../etc/passwd"));
}

TEST(ScheduleStore, RefusesWhatItDidNotWrite) {
  const std::string good = schedule_to_json(sample());
  ASSERT_TRUE(schedule_from_json(good));
  const auto replace = [&](std::string from, std::string to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  struct Case { std::string text; std::string complaint; };
  for (const Case& c : std::vector<Case>{
           {"[]", "not a JSON object"},
           {"{", "not valid JSON"},
           {replace("\"format\":1", "\"format\":2"), "\"format\" is not 1"},
           {replace("\"format\":1", "\"version\":1"), "\"format\" is not 1"},
           {replace("\"renewal_basis\":\"ari-window\",", ""), "missing key \"renewal_basis\""},
           {replace("\"ari-window\"", "\"ari\""), "\"renewal_basis\" is not one of"},
           {replace("\"ari-window\"", "7"), "\"renewal_basis\" is not one of"},
           {replace("\"ari_fetched_at\":1746133200", "\"ari_fetched_at\":\"then\""), "\"ari_fetched_at\" is not a time"},
           {replace("\"decision\"", "\"verdict\""), "unknown key \"verdict\""},
           {replace("\"renew_at\":1748736420", "\"renew_at\":\"soon\""), "\"renew_at\" is not a time"},
           {replace("\"renew_at\":1748736420", "\"renew_at\":-1"), "\"renew_at\" is not a time"},
           {replace("\"Default\"", "\"../x\""), "\"purposes\""},
           {replace("\"front-end\"", "\"../front-end\""), "certificate id"},
           {replace("\"consecutive_failures\":3", "\"consecutive_failures\":0"), "without any failure"},
       }) {
    auto r = schedule_from_json(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().kind, ErrorKind::Storage);
    EXPECT_NE(r.error().message.find(c.complaint), std::string::npos) << r.error().message;
  }
}

TEST(ScheduleStore, EveryBasisRoundTrips) {
  for (policy::RenewalBasis b : {policy::RenewalBasis::Expired, policy::RenewalBasis::NearExpiry, policy::RenewalBasis::AriWindow,
                         policy::RenewalBasis::RenewBefore, policy::RenewalBasis::Lifetime}) {
    ScheduleRecord r = sample();
    r.basis = b;
    auto back = schedule_from_json(schedule_to_json(r));
    ASSERT_TRUE(back) << to_string(b) << ": " << back.error().message;
    EXPECT_EQ(back->basis, b) << to_string(b);
  }
}

TEST(ScheduleStore, ListingSkipsWhatItCannotTrustAndSaysWhy) {
  TempDir t;
  auto store = Store::open(t.path(), {.write = true});
  ASSERT_TRUE(store);
  ScheduleRecord a = sample(), b = sample();
  b.certificate_id = "edge";
  ASSERT_TRUE(write_schedule(SharedStore(*store).lock(), a));
  ASSERT_TRUE(write_schedule(SharedStore(*store).lock(), b));
  std::ofstream(t.path() / "schedule" / "broken.json") << "{";
  std::ofstream(t.path() / "schedule" / "notes.txt") << "hello";
  std::ofstream(t.path() / "schedule" / "other.json") << schedule_to_json(a);  // names front-end
  auto list = list_schedules(t.path());
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->records.size(), 2u);
  EXPECT_EQ(list->records[0].certificate_id, "edge");
  EXPECT_EQ(list->records[1].certificate_id, "front-end");
  ASSERT_EQ(list->problems.size(), 3u);
  EXPECT_TRUE(list_schedules(t.path() / "missing").value().records.empty());
}

}  // namespace
}  // namespace certagent::agent
