// `certagent status`: per certificate its purposes and bindings, the next renewal and the
// back-off, from a real state directory; text for a person and JSON; through the binary.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <array>
#include <cstdio>

#include "agent/store/schedule.hpp"
#include "agent/cli/status_report.hpp"
#include "store_support.hpp"
#include "support/cli_runner.hpp"

namespace certagent::agent {
namespace {

using testing::TempDir;
namespace json = boost::json;

struct StateWithOneBoundCertificate {
  TempDir t;
  std::string version;
  std::string thumbprint;
  TimePoint now = std::chrono::floor<Seconds>(std::chrono::system_clock::now());

  StateWithOneBoundCertificate() {
    auto store = Store::open(t.path(), {.write = true});
    EXPECT_TRUE(store);
    auto c = testing::make_cert({"pool.example.com", "lyncdiscoverinternal.example.com"});
    NewVersion v{c.key_pem, c.leaf_pem, c.chain_pem, {}};
    v.meta.certificate_id = "front-end";
    version = store->add_version(v).value();
    thumbprint = store->load_version(version)->meta.thumbprint;
    const std::string purposes[] = {"Default"};
    EXPECT_TRUE(store->bind(purposes, version));
    ScheduleRecord r;
    r.certificate_id = "front-end";
    r.purposes = {"Default", "WebServicesInternal"};
    r.renew_at = now + std::chrono::hours(24 * 29);
    r.decision = "wait: 1/3 of the lifetime remains then";
    r.backoff.consecutive_failures = 2;
    r.backoff.last_attempt = now - Seconds{60};
    r.backoff.next_attempt = now + Seconds{120};
    r.backoff.last_error_kind = ErrorKind::Transport;
    r.backoff.last_error_message = "connection refused";
    EXPECT_TRUE(write_schedule(SharedStore(*store).lock(), r));
  }
};

TEST(Status, GathersBindingsAndSchedulesPerCertificate) {
  StateWithOneBoundCertificate s;
  auto report = gather_status(s.t.path());
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->certificates.size(), 1u);
  const StatusCertificate& c = report->certificates[0];
  EXPECT_EQ(c.id, "front-end");
  ASSERT_EQ(c.purposes.size(), 2u);
  EXPECT_EQ(c.purposes[0].purpose, "Default");
  EXPECT_EQ(c.purposes[0].version_id, s.version);
  ASSERT_TRUE(c.purposes[0].meta);
  EXPECT_EQ(c.purposes[1].purpose, "WebServicesInternal");
  EXPECT_TRUE(c.purposes[1].version_id.empty());
  ASSERT_TRUE(c.schedule);
  EXPECT_TRUE(report->problems.empty());

  const std::string text = render_status_text(*report, s.now);
  EXPECT_NE(text.find("certificate front-end\n"), std::string::npos) << text;
  EXPECT_NE(text.find(s.thumbprint + "  2 names  expires"), std::string::npos) << text;
  EXPECT_NE(text.find("WebServicesInternal  unbound"), std::string::npos) << text;
  EXPECT_NE(text.find("(in 29d)"), std::string::npos) << text;
  EXPECT_NE(text.find("2 consecutive failures"), std::string::npos) << text;
}

TEST(Status, JsonHasTheSameFacts) {
  StateWithOneBoundCertificate s;
  auto report = gather_status(s.t.path());
  ASSERT_TRUE(report);
  const json::value v = json::parse(render_status_json(*report, s.now));
  const auto& c = v.at("certificates").at(0);
  EXPECT_EQ(c.at("id"), "front-end");
  EXPECT_EQ(c.at("purposes").at(0).at("thumbprint"), s.thumbprint.c_str());
  EXPECT_EQ(c.at("purposes").at(0).at("names"), 2);
  EXPECT_EQ(c.at("purposes").at(1).at("bound"), false);
  EXPECT_EQ(c.at("schedule").at("consecutive_failures"), 2);
  EXPECT_EQ(c.at("schedule").at("next_attempt"), format_rfc3339(s.now + std::chrono::hours(24 * 29)).c_str());
  EXPECT_EQ(c.at("schedule").at("last_error"), "connection refused");
}

TEST(Status, MissingStateDirectoryIsAClearError) {
  TempDir t;
  auto report = gather_status(t.path() / "nothing-here");
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("does not exist"), std::string::npos) << report.error().message;
}

std::pair<int, std::string> run_binary(const std::string& args) {
  auto r = certagent::testing::run_certagent(args);
  return {r.code, r.out};
}

TEST(Status, TheCommandPrintsTextOrJson) {
  StateWithOneBoundCertificate s;
  auto [code, out] = run_binary("--state-dir " + s.t.path().string() + " status");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("certificate front-end"), std::string::npos) << out;
  auto [jcode, jout] = run_binary("--state-dir " + s.t.path().string() + " status --json");
  EXPECT_EQ(jcode, 0) << jout;
  EXPECT_EQ(json::parse(jout).at("certificates").at(0).at("id"), "front-end");
  auto [mcode, mout] = run_binary("--state-dir " + (s.t.path() / "missing").string() + " status");
  EXPECT_EQ(mcode, 1);
  EXPECT_NE(mout.find("does not exist"), std::string::npos) << mout;
}

}  // namespace
}  // namespace certagent::agent
