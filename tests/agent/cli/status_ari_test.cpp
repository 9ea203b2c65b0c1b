// `certagent status` and ARI (RFC 9773): the CA's window per bound certificate as the engine
// stored it, when it was fetched, the next check, and which rule set the renewal time as the
// schedule records it — in the text, in --json, and for bad records.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <chrono>
#include <fstream>
#include <tuple>

#include "agent/engine/ari.hpp"
#include "agent/store/schedule.hpp"
#include "agent/cli/status_ari.hpp"
#include "agent/cli/status_report.hpp"
#include "store_support.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
namespace json = boost::json;

constexpr const char* kDirectory = "https://ca.example/dir";

// One certificate bound to Default, its schedule renewing in 20 days, and an ARI record whose
// window is days 19..21 (the renewal time is inside it), fetched 3 hours ago. The schedule records
// that the ARI window set it.
struct StateWithAri {
  TempDir t;
  std::optional<Store> store;
  std::string thumbprint;
  TimePoint now = std::chrono::floor<Seconds>(std::chrono::system_clock::now());
  TimePoint fetched = now - 3h;
  AriRecord record{"aki.serial", now + 24h * 19, now + 24h * 21, now + 3h, fetched};

  StateWithAri() {
    auto s = Store::open(t.path(), {.write = true});
    EXPECT_TRUE(s);
    store.emplace(std::move(*s));
    auto c = testing::make_cert({"pool.example.com"});
    NewVersion v{c.key_pem, c.leaf_pem, c.chain_pem, {}};
    v.meta.certificate_id = "front-end";
    const std::string version = store->add_version(v).value();
    thumbprint = store->load_version(version)->meta.thumbprint;
    const std::string purposes[] = {"Default"};
    EXPECT_TRUE(store->bind(purposes, version));
    schedule(now + 24h * 20, policy::RenewalBasis::AriWindow, fetched);
    EXPECT_TRUE(note_ca_directory(SharedStore(*store).lock(), CaDirectoryNote{kDirectory, "https://ca.example/renewal-info", now - 1h}));
    write_record();
  }
  void schedule(TimePoint renew_at, std::optional<policy::RenewalBasis> basis = std::nullopt,
                std::optional<TimePoint> ari_fetched_at = std::nullopt) {
    ScheduleRecord r;
    r.certificate_id = "front-end";
    r.purposes = {"Default"};
    r.renew_at = renew_at;
    r.basis = basis;
    r.ari_fetched_at = ari_fetched_at;
    EXPECT_TRUE(write_schedule(SharedStore(*store).lock(), r));
  }
  void write_record() {
    EXPECT_TRUE(write_ari_record(SharedStore(*store).lock(), thumbprint, record));
  }
  std::filesystem::path record_file() const { return t.path() / "ari" / (thumbprint + ".json"); }
  StatusReport report() const {
    auto r = gather_status(t.path());
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : StatusReport{};
  }
};

TEST(StatusAri, ShowsTheWindowWhenItWasFetchedTheNextCheckAndThatItSetsTheRenewalTime) {
  StateWithAri s;
  const StatusReport report = s.report();
  ASSERT_EQ(report.certificates.size(), 1u);
  const StatusCertificate& c = report.certificates[0];
  ASSERT_EQ(c.ari.size(), 1u);
  EXPECT_EQ(c.ari[0].thumbprint, s.thumbprint);
  EXPECT_EQ(c.ari[0].start, s.record.start);
  EXPECT_EQ(c.ari[0].end, s.record.end);
  EXPECT_EQ(c.ari[0].next_check, s.record.recheck_at);
  EXPECT_EQ(c.ari[0].fetched_at, s.fetched);
  EXPECT_EQ(c.renewal_basis, RenewalBasisSeen::Ari);
  EXPECT_TRUE(report.problems.empty());

  const std::string text = render_status_text(report, s.now);
  EXPECT_NE(text.find("renewal by    the CA's ARI window, window fetched " + format_rfc3339(s.fetched) + " (3h ago)\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("ARI window    " + format_rfc3339(s.record.start) + " .. " + format_rfc3339(s.record.end)),
            std::string::npos) << text;
  EXPECT_NE(text.find("ARI fetched   " + format_rfc3339(s.fetched) + " (3h ago)"), std::string::npos) << text;
  EXPECT_NE(text.find("ARI next      " + format_rfc3339(s.record.recheck_at) + " (in 3h)"), std::string::npos) << text;
  EXPECT_NE(text.find(std::string("renewal information (ARI): ") + kDirectory + " offers it"), std::string::npos) << text;
}

TEST(StatusAri, JsonHasTheWindowTheTimesAndTheBasis) {
  StateWithAri s;
  const json::value v = json::parse(render_status_json(s.report(), s.now));
  const auto& c = v.at("certificates").at(0);
  EXPECT_EQ(c.at("renewal_basis"), "ari");
  EXPECT_FALSE(c.as_object().contains("renewal_basis_source"));
  EXPECT_EQ(c.at("schedule").at("ari_fetched_at"), format_rfc3339(s.fetched).c_str());
  const auto& w = c.at("ari").at(0);
  EXPECT_EQ(w.at("thumbprint"), s.thumbprint.c_str());
  EXPECT_EQ(w.at("window_start"), format_rfc3339(s.record.start).c_str());
  EXPECT_EQ(w.at("window_end"), format_rfc3339(s.record.end).c_str());
  EXPECT_EQ(w.at("fetched_at"), format_rfc3339(s.fetched).c_str());
  EXPECT_EQ(w.at("next_check"), format_rfc3339(s.record.recheck_at).c_str());
  EXPECT_EQ(v.at("ari").at("offered"), true);
  EXPECT_EQ(v.at("ari").at("directory"), kDirectory);
  EXPECT_EQ(v.at("ari").at("checked_at"), format_rfc3339(s.now - 1h).c_str());
}

TEST(StatusAri, TheLifetimeRuleIsShownWhenTheScheduleSaysSoWhileTheWindowIsStillShown) {
  StateWithAri s;
  s.schedule(s.now + 24h * 30, policy::RenewalBasis::Lifetime);
  const StatusReport report = s.report();
  EXPECT_EQ(report.certificates.at(0).renewal_basis, RenewalBasisSeen::Lifetime);
  EXPECT_EQ(report.certificates.at(0).ari.size(), 1u) << "the window is still shown";
  EXPECT_NE(render_status_text(report, s.now).find("renewal by    the lifetime rule"), std::string::npos);
}

TEST(StatusAri, ACaWithoutRenewalInformationMeansTheLifetimeRule) {
  StateWithAri s;
  ASSERT_TRUE(note_ca_directory(SharedStore(*s.store).lock(), CaDirectoryNote{kDirectory, "", s.now}));
  s.schedule(s.now + 24h * 30, policy::RenewalBasis::Lifetime);
  const StatusReport report = s.report();
  EXPECT_EQ(report.certificates.at(0).renewal_basis, RenewalBasisSeen::Lifetime);
  EXPECT_NE(render_status_text(report, s.now).find(std::string(kDirectory) + " offers none"), std::string::npos);
  EXPECT_EQ(json::parse(render_status_json(report, s.now)).at("ari").at("offered"), false);
}

TEST(StatusAri, WithoutARecordThereIsNoWindowAndNoCaNoteIsNull) {
  StateWithAri s;
  std::filesystem::remove_all(s.t.path() / "ari");
  s.schedule(s.now + 24h * 30, policy::RenewalBasis::Lifetime);
  const StatusReport report = s.report();
  EXPECT_TRUE(report.certificates.at(0).ari.empty());
  EXPECT_EQ(report.certificates.at(0).renewal_basis, RenewalBasisSeen::Lifetime);
  EXPECT_FALSE(report.ca_ari);
  const json::value v = json::parse(render_status_json(report, s.now));
  EXPECT_TRUE(v.at("ari").is_null());
  EXPECT_TRUE(v.at("certificates").at(0).at("ari").as_array().empty());
  EXPECT_EQ(render_status_text(report, s.now).find("ARI window    "), std::string::npos);
}

TEST(StatusAri, ARecordTheEngineDidNotWriteIsAProblemNotAFailure) {
  StateWithAri s;
  std::ofstream(s.record_file()) << "{\"format\":1,\"cert_id\":\"x\"}";
  const StatusReport report = s.report();
  EXPECT_TRUE(report.certificates.at(0).ari.empty());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].path, s.record_file());
  EXPECT_NE(report.problems[0].what.find("no time \"start\""), std::string::npos) << report.problems[0].what;
}

TEST(StatusAri, NoRenewalTimeYetIsUnknownAndNullInJson) {
  StateWithAri s;
  ScheduleRecord r;
  r.certificate_id = "front-end";
  r.purposes = {"Default"};
  ASSERT_TRUE(write_schedule(SharedStore(*s.store).lock(), r));
  const StatusReport report = s.report();
  EXPECT_EQ(report.certificates.at(0).renewal_basis, RenewalBasisSeen::Unknown);
  const json::value v = json::parse(render_status_json(report, s.now));
  EXPECT_TRUE(v.at("certificates").at(0).at("renewal_basis").is_null());
}

TEST(StatusAri, TheRecordedBasisAndFetchTimeAreShownAsRecorded) {
  StateWithAri s;
  s.schedule(s.now + 24h * 20, policy::RenewalBasis::AriWindow, s.now - 5h);
  const StatusReport report = s.report();
  const StatusCertificate& c = report.certificates.at(0);
  EXPECT_EQ(c.renewal_basis, RenewalBasisSeen::Ari);
  const std::string text = render_status_text(report, s.now);
  EXPECT_NE(text.find("renewal by    the CA's ARI window, window fetched " + format_rfc3339(s.now - 5h) + " (5h ago)\n"),
            std::string::npos) << text;
  const json::value v = json::parse(render_status_json(report, s.now));
  const auto& j = v.at("certificates").at(0);
  EXPECT_EQ(j.at("renewal_basis"), "ari");
  EXPECT_EQ(j.at("schedule").at("ari_fetched_at"), format_rfc3339(s.now - 5h).c_str());
}

TEST(StatusAri, ARecordedBasisWinsOverWhatTheWindowSuggests) {
  StateWithAri s;  // renew_at inside the window, yet the policy's renewal setting was earlier and set it
  s.schedule(s.now + 24h * 20, policy::RenewalBasis::RenewBefore, s.now - 3h);
  StatusReport report = s.report();
  EXPECT_EQ(report.certificates.at(0).renewal_basis, RenewalBasisSeen::RenewBefore);
  std::string text = render_status_text(report, s.now);
  EXPECT_NE(text.find("renewal by    the policy's renewal setting\n"), std::string::npos) << text;
  EXPECT_EQ(json::parse(render_status_json(report, s.now)).at("certificates").at(0).at("renewal_basis"),
            "renew-before");
  for (auto [basis, seen, words] : {std::tuple{policy::RenewalBasis::NearExpiry, "near-expiry", "near expiry"},
                                    std::tuple{policy::RenewalBasis::Expired, "expired", "expiry (the certificate had expired)"},
                                    std::tuple{policy::RenewalBasis::Lifetime, "lifetime", "the lifetime rule"}}) {
    s.schedule(s.now + 24h * 20, basis);
    report = s.report();
    EXPECT_STREQ(to_string(report.certificates.at(0).renewal_basis), seen);
    text = render_status_text(report, s.now);
    EXPECT_NE(text.find(std::string("renewal by    ") + words), std::string::npos) << text;
  }
}

TEST(StatusAri, AScheduleInAnotherFormatIsAProblemNamingTheFile) {
  StateWithAri s;
  std::ofstream(s.t.path() / "schedule" / "front-end.json")
      << R"({"version":1,"certificate_id":"front-end","purposes":["Default"],"renew_at":)"
      << (s.now + 24h * 20).time_since_epoch().count()
      << R"(,"selected":null,"ari_recheck_at":null,"decision":"keep","decided_at":null,"backoff":{"version":1,)"
         R"("consecutive_failures":0,"permanent":false,"last_attempt":null,"next_attempt":null,)"
         R"("last_error_kind":null,"last_error_message":"","last_problem_type":"","last_success":null}})";
  const StatusReport report = s.report();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].path, s.t.path() / "schedule" / "front-end.json");
  EXPECT_NE(report.problems[0].what.find("\"format\" is not 1"), std::string::npos) << report.problems[0].what;
  EXPECT_EQ(report.certificates.at(0).renewal_basis, RenewalBasisSeen::Unknown);
}

TEST(StatusAri, ABoundCertificateWithoutAScheduleStillShowsItsWindow) {
  StateWithAri s;
  std::filesystem::remove(s.t.path() / "schedule" / "front-end.json");
  const StatusReport report = s.report();
  ASSERT_EQ(report.certificates.at(0).ari.size(), 1u);
  EXPECT_EQ(report.certificates.at(0).renewal_basis, RenewalBasisSeen::Unknown);
  const std::string text = render_status_text(report, s.now);
  EXPECT_NE(text.find("no schedule recorded yet"), std::string::npos) << text;
  EXPECT_NE(text.find("ARI window    " + format_rfc3339(s.record.start)), std::string::npos) << text;
}

TEST(StatusAri, EveryRecordedBasisHasItsName) {
  EXPECT_STREQ(to_string(RenewalBasisSeen::Ari), "ari");
  EXPECT_STREQ(to_string(RenewalBasisSeen::RenewBefore), "renew-before");
  ScheduleRecord r;
  EXPECT_EQ(recorded_renewal_basis(r), std::nullopt) << "no renewal time";
  r.renew_at = TimePoint{Seconds{1'750'000'000}};
  EXPECT_EQ(recorded_renewal_basis(r), std::nullopt) << "no basis recorded (not a renewal decision)";
  r.basis = policy::RenewalBasis::NearExpiry;
  EXPECT_EQ(recorded_renewal_basis(r), RenewalBasisSeen::NearExpiry);
}

}  // namespace
}  // namespace certagent::agent
