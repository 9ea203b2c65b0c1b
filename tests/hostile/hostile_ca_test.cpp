// `certagent acme issue` against an adversarial ACME server, one scenario per
// test (tests/hostile/hostile_ca.py --list). Each refusal must come with: a
// non-zero exit, an error naming what was wrong, no hang past the scenario's
// documented bound, peak RSS under the ceiling, nothing written anywhere in
// the test's tree, nothing at all in --out, and no ESC byte on the terminal.
// The `baseline` scenario is the control: the same server, behaving, issues.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <regex>
#include <string>

#include "hostile/hostile_harness.hpp"

namespace certagent::hostile {
namespace {

using namespace std::chrono_literals;

// How long past its bound a run may go before the test kills it.
constexpr auto kKillMargin = 10s;
constexpr std::size_t kAny = SIZE_MAX;

struct Case {
  const char* scenario;
  const char* expect;      // ECMAScript regex, case-insensitive, that the error must match
  std::chrono::seconds bound;  // documented: the client gives up within this
  std::size_t max_requests;    // of the server's request log (kAny: not checked)
  const char* request_prefix = "";  // only requests whose path starts with this are counted
  const char* timeout = nullptr;    // --timeout for the client (seconds), when the scenario is about waiting
};

// The scenarios and what the client must say. Bounds: most refusals are
// immediate (5 s covers start-up and key generation); a trickling body is cut
// by the transport's low-speed rule (below 16 B/s for 15 s); a CA that never
// decides is bounded by --timeout (10 s here; 300 s by default).
const Case kCases[] = {
    {"token-slash", "token", 5s, kAny},
    {"token-dotdot", "token", 5s, kAny},
    {"token-nul", "token", 5s, kAny},
    {"token-shell", "token", 5s, kAny},
    {"token-escape", "token", 5s, kAny},
    {"token-long", "token", 5s, kAny},
    {"authz-identifier-mismatch", "identifier|names evil\\.example, which the order does not", 5s, kAny},
    {"order-identifier-mismatch", "identifier", 5s, kAny},
    {"authz-excess", "authorization", 5s, 3, "/authz/"},
    {"many-authz", "authorization", 5s, 0, "/authz/"},
    {"problem-escape", "rejectedIdentifier", 5s, kAny},
    {"deep-json-problem", "JSON", 5s, kAny},
    {"deep-json", "JSON", 5s, kAny},
    {"oversized-body", "exceeds the limit|too large", 10s, kAny},
    {"oversized-unbounded", "exceeds the limit|too large", 10s, kAny},
    {"trickle", "timed out|too slow|timeout", 20s, kAny},
    {"retry-after-zero", "serverInternal|503", 5s, 4, "/order/new"},
    {"retry-after-30y", "rate ?limit", 5s, 1, "/order/new"},
    {"retry-after-30y-date", "rate ?limit", 5s, 1, "/order/new"},
    {"poll-retry-after-zero", "still not done after 10 s", 12s, 30, "", "10"},
    {"poll-retry-after-30y", "still not done after 10 s", 12s, 30, "", "10"},
    {"redirect-loop", "redirect", 5s, 2},
    {"directory-http", "only https://|not https|plain http", 5s, kAny},
    {"order-http", "only https://|not https|plain http", 5s, kAny},
    {"location-escape", "Location header\\) is not https", 5s, kAny},
    {"cert-other-key", "not for our key", 5s, kAny},
    {"cert-other-names", "names", 5s, kAny},
    {"cert-expired", "expired", 5s, kAny},
    {"chain-private-key", "private key", 5s, kAny},
    {"chain-garbage", "PEM", 5s, kAny},
    {"chain-broken", "not issued by", 5s, kAny},
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.scenario; }

bool has_escape(const std::string& s) { return s.find('\x1b') != std::string::npos; }

std::string first_line(const std::string& s) { return s.substr(0, std::min(s.find('\n'), std::size_t{400})); }

// One line per run on stdout, collected into docs/reliability.md.
void report(const std::string& scenario, const ClientRun& run, std::size_t requests) {
  std::cout << "[hostile] " << scenario << ": exit " << run.outcome.exit_code << ", " << run.seconds() << " s, "
            << run.peak_rss_kib / 1024 << " MiB peak, " << requests << " requests; " << first_line(run.outcome.err)
            << "\n";
}

// What every refusal must satisfy, whatever the scenario.
void expect_clean_refusal(const Workspace& ws, const Snapshot& before, const ClientRun& run, const Case& c) {
  const std::string out = run.output();
  EXPECT_FALSE(run.outcome.timed_out) << "killed after " << run.seconds() << " s; output: " << out;
  EXPECT_EQ(run.outcome.signal, 0) << run.time_note << out;
  EXPECT_EQ(run.time_note.find("signal"), std::string::npos) << run.time_note;
  EXPECT_NE(run.outcome.exit_code, 0) << "the client accepted it: " << out;
  EXPECT_LE(run.outcome.elapsed, c.bound) << "past the documented bound of " << c.bound.count() << " s";
  EXPECT_TRUE(std::regex_search(out, std::regex(c.expect, std::regex::icase)))
      << "the error does not say /" << c.expect << "/: " << out;
  EXPECT_FALSE(has_escape(out)) << "an ESC byte reached the terminal";
  EXPECT_GT(run.peak_rss_kib, 0) << "no peak RSS figure";
  EXPECT_LT(run.peak_rss_kib, max_rss_kib()) << "peak RSS " << run.peak_rss_kib << " KiB";
  auto diff = changes(before, snapshot(ws));
  EXPECT_TRUE(diff.empty()) << "written outside --out: " << ::testing::PrintToString(diff);
  auto files = files_in_out(ws);
  EXPECT_TRUE(files.empty()) << "files in --out after a refusal: " << ::testing::PrintToString(files);
}

class HostileCaTest : public ::testing::TestWithParam<Case> {};

TEST_P(HostileCaTest, RefusesWithAClearErrorInBoundedTimeAndMemory) {
  const Case& c = GetParam();
  Workspace ws;
  const int http01 = free_port();
  HostileCa ca(ws, c.scenario, http01);
  ASSERT_TRUE(ca.ready()) << ca.failure();
  const Snapshot before = snapshot(ws);
  std::vector<std::string> extra;
  if (c.timeout != nullptr) extra = {"--timeout", c.timeout};
  ClientRun run = run_issue(ws, ca, http01, c.bound + kKillMargin, extra);
  const std::size_t requests = ca.requests(c.request_prefix);
  report(c.scenario, run, ca.requests());
  expect_clean_refusal(ws, before, run, c);
  if (c.max_requests != kAny) {
    EXPECT_LE(requests, c.max_requests) << "requests to '" << c.request_prefix << "'";
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.scenario;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, HostileCaTest, ::testing::ValuesIn(kCases), case_name);

// The control: the same server, behaving, gives a certificate that lands in --out only.
TEST(HostileCaBaseline, AWellBehavedServerIssuesAndOnlyOutIsWritten) {
  Workspace ws;
  const int http01 = free_port();
  HostileCa ca(ws, "baseline", http01);
  ASSERT_TRUE(ca.ready()) << ca.failure();
  const Snapshot before = snapshot(ws);
  ClientRun run = run_issue(ws, ca, http01, 30s);
  report("baseline", run, ca.requests());
  ASSERT_EQ(run.outcome.exit_code, 0) << run.output();
  EXPECT_LT(run.peak_rss_kib, max_rss_kib());
  auto files = files_in_out(ws);
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"cert.pem", "chain.pem", "fullchain.pem", "key.pem"}));
  struct stat st{};
  ASSERT_EQ(::stat((ws.out / "key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const auto& change : changes(before, snapshot(ws))) {
    EXPECT_TRUE(change.starts_with("new out")) << "written outside --out: " << change;
  }
  EXPECT_GE(ca.requests("/chall/"), 2u) << "both challenges answered";
}

// The directory is fine on the first fetch and lists http:// URLs on the next:
// the second run must refuse (a CA cannot talk a client off TLS later on).
TEST(HostileCaSwitch, ADirectoryThatSwitchesToHttpIsRefusedOnTheSecondRun) {
  const Case c{"directory-switch", "only https://|not https|plain http", 5s, kAny};
  Workspace ws;
  const int http01 = free_port();
  HostileCa ca(ws, c.scenario, http01);
  ASSERT_TRUE(ca.ready()) << ca.failure();
  ClientRun first = run_issue(ws, ca, http01, 30s);
  report("directory-switch (first fetch)", first, ca.requests());
  ASSERT_EQ(first.outcome.exit_code, 0) << first.output();
  fs::rename(ws.out, ws.root / "first-out");
  const Snapshot before = snapshot(ws);
  ClientRun second = run_issue(ws, ca, http01, c.bound + kKillMargin);
  report("directory-switch (second fetch)", second, ca.requests());
  expect_clean_refusal(ws, before, second, c);
}

}  // namespace
}  // namespace certagent::hostile
