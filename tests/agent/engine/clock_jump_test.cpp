// The clock jumped past expiry (a VM resumed after months, an NTP step): with
// the injected `now` of a pass, the bound certificate whose notAfter is past is
// due at once (a renewal is attempted in that very pass), the old certificate
// stays bound while the renewal fails, `status` says EXPIRED, and `assign`
// refuses to bind it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "agent/cli/assign_check.hpp"
#include "agent/engine/pass.hpp"
#include "agent/cli/status_report.hpp"
#include "agent/store/store.hpp"
#include "agent_fixtures.hpp"

namespace certagent::agent {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::vector<std::string> kNames = {"se01.contoso.net", "lyncdiscoverinternal.contoso.com",
                                         "lyncdiscover.contoso.com"};

TEST(ClockJump, PastNotAfterTheCertificateIsDueAtOnceStatusSaysExpiredAndAssignRefusesIt) {
  testing::EngineFixture f;
  const auto& store = f.store;
  auto cert = testing::make_cert(kNames, -60s, 24h * 90);
  NewVersion v{cert.key_pem, cert.leaf_pem, cert.chain_pem, {}};
  v.meta.certificate_id = "front-end";
  v.meta.key_type = "ec-p256";
  auto id = store->add_version(v);
  ASSERT_TRUE(id) << id.error().message;
  const auto stored = store->load_version(*id);
  ASSERT_TRUE(stored);
  const auto not_after = stored->meta.not_after;

  Engine engine({f.policy.string(), 4}, store);
  const auto today = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto bound = engine.pass(f.at(today));
  ASSERT_TRUE(bound.attempts.empty()) << "today it is current: bound, not renewed";
  ASSERT_EQ(bound.certificates.at(0).purposes.at(0).thumbprint, stored->meta.thumbprint);

  const auto jumped = not_after + 1h;  // the clock jumped past expiry
  auto s = engine.pass(f.at(jumped));
  ASSERT_EQ(s.attempts.size(), 1u) << s.status_line;
  EXPECT_EQ(s.attempts[0].action, "renew");
  EXPECT_FALSE(s.attempts[0].succeeded) << "no CA at 127.0.0.1:1";
  EXPECT_TRUE(s.incomplete);
  for (const auto& p : s.certificates.at(0).purposes)
    EXPECT_EQ(p.thumbprint, stored->meta.thumbprint) << p.purpose << ": the old certificate stays bound meanwhile";

  auto report = gather_status(store->dir());
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_THAT(render_status_text(*report, jumped), HasSubstr(stored->meta.thumbprint + "  3 names  EXPIRED"));
  EXPECT_THAT(render_status_text(*report, today), ::testing::Not(HasSubstr("EXPIRED")));

  PurposeNamesMap required{{"Default", kNames}};
  auto refusals = assign_refusals(*stored, {"Default"}, required, jumped);
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_THAT(refusals[0], HasSubstr("expired"));
  EXPECT_TRUE(assign_refusals(*stored, {"Default"}, required, today).empty());
}

}  // namespace
}  // namespace certagent::agent
