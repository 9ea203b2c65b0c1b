// Metrics: the exact text for a given state, label escaping, folding passes into counters and
// the histogram, the listen address rules, and the endpoint served by the running daemon.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "agent/daemon/metrics.hpp"
#include "agent/daemon/metrics_server.hpp"
#include "daemon_child.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_seconds;

PassSummary sample_summary() {
  PassSummary s;
  CertificateStatus fe;
  fe.id = "front-end";
  fe.purposes = {{"Default", "3FA1C09B77D2E410AABBCCDDEEFF001122334455", sys_seconds{1750000000s}},
                 {"WebServicesInternal", "", std::nullopt}};
  fe.next_renewal = sys_seconds{1747000000s};
  fe.consecutive_failures = 2;
  fe.last_success = sys_seconds{1742000000s};
  s.certificates.push_back(fe);
  s.attempts = {{"front-end", "renew", false, 1500ms}, {"front-end", "renew", true, 45s}};
  return s;
}

TEST(Metrics, APoolMemberShowsEachPoolCertificatesVersionLeaderAndEveryMembersBinding) {
  MetricsState state;
  state.pool = PoolView{"fe-pool", "fe01", sys_seconds{1746000000s}, {}};
  state.pool->certificates.push_back({"fe-web", "fe02", "6A3F", "fe03", {{"fe01", "6A3F"}, {"fe02", "0B1C"}}});
  state.pool->certificates.push_back({"fe-sip", "", "", "", {}});
  const std::string text = render_metrics(state);
  for (const char* line : {
           "certagent_pool_seen_timestamp_seconds{pool=\"fe-pool\"} 1746000000\n",
           "certagent_pool_version_info{pool=\"fe-pool\",certificate=\"fe-web\",thumbprint=\"6A3F\",ordered_by=\"fe03\"} 1\n",
           "certagent_pool_leader{pool=\"fe-pool\",certificate=\"fe-web\",member=\"fe02\"} 1\n",
           "certagent_pool_member_bound{pool=\"fe-pool\",certificate=\"fe-web\",member=\"fe01\",thumbprint=\"6A3F\"} 1\n",
           "certagent_pool_member_bound{pool=\"fe-pool\",certificate=\"fe-web\",member=\"fe02\",thumbprint=\"0B1C\"} 0\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  EXPECT_EQ(text.find("certificate=\"fe-sip\""), std::string::npos) << "no version, no leader, nothing bound: no sample";
  EXPECT_EQ(render_metrics(MetricsState{}).find("certagent_pool"), std::string::npos) << "not a pool member: none";
}

TEST(Metrics, RendersTheExactTextFormat) {
  MetricsState state;
  record_pass(state, WakeReason::Timer, sys_seconds{1746000000s}, sample_summary());
  const std::string expected = R"(# HELP certagent_certificate_expiry_timestamp_seconds notAfter of the certificate bound to the purpose (Unix time).
# TYPE certagent_certificate_expiry_timestamp_seconds gauge
certagent_certificate_expiry_timestamp_seconds{purpose="Default",certificate="front-end",thumbprint="3FA1C09B77D2E410AABBCCDDEEFF001122334455"} 1750000000
# HELP certagent_purpose_bound 1 when a certificate is bound to the purpose, else 0.
# TYPE certagent_purpose_bound gauge
certagent_purpose_bound{purpose="Default",certificate="front-end"} 1
certagent_purpose_bound{purpose="WebServicesInternal",certificate="front-end"} 0
# HELP certagent_purpose_complete 1 when the purpose is bound to a certificate that carries every name the policy requires and is not due, else 0.
# TYPE certagent_purpose_complete gauge
certagent_purpose_complete{purpose="Default",certificate="front-end"} 0
certagent_purpose_complete{purpose="WebServicesInternal",certificate="front-end"} 0
# HELP certagent_next_renewal_timestamp_seconds When the certificate is renewed or retried next (Unix time).
# TYPE certagent_next_renewal_timestamp_seconds gauge
certagent_next_renewal_timestamp_seconds{purpose="Default",certificate="front-end"} 1747000000
certagent_next_renewal_timestamp_seconds{purpose="WebServicesInternal",certificate="front-end"} 1747000000
# HELP certagent_consecutive_failures Failed issuance attempts since the last success.
# TYPE certagent_consecutive_failures gauge
certagent_consecutive_failures{purpose="Default",certificate="front-end"} 2
certagent_consecutive_failures{purpose="WebServicesInternal",certificate="front-end"} 2
# HELP certagent_last_success_timestamp_seconds When the certificate was last issued successfully (Unix time).
# TYPE certagent_last_success_timestamp_seconds gauge
certagent_last_success_timestamp_seconds{purpose="Default",certificate="front-end"} 1742000000
certagent_last_success_timestamp_seconds{purpose="WebServicesInternal",certificate="front-end"} 1742000000
# HELP certagent_issuance_total ACME issuance attempts by certificate, action and result.
# TYPE certagent_issuance_total counter
certagent_issuance_total{certificate="front-end",action="renew",result="failure"} 1
certagent_issuance_total{certificate="front-end",action="renew",result="success"} 1
# HELP certagent_passes_total Passes of the agent by what woke it.
# TYPE certagent_passes_total counter
certagent_passes_total{reason="timer"} 1
# HELP certagent_issuance_duration_seconds Duration of ACME issuance attempts (order to stored certificate).
# TYPE certagent_issuance_duration_seconds histogram
certagent_issuance_duration_seconds_bucket{le="1"} 0
certagent_issuance_duration_seconds_bucket{le="2"} 1
certagent_issuance_duration_seconds_bucket{le="5"} 1
certagent_issuance_duration_seconds_bucket{le="10"} 1
certagent_issuance_duration_seconds_bucket{le="30"} 1
certagent_issuance_duration_seconds_bucket{le="60"} 2
certagent_issuance_duration_seconds_bucket{le="120"} 2
certagent_issuance_duration_seconds_bucket{le="300"} 2
certagent_issuance_duration_seconds_bucket{le="600"} 2
certagent_issuance_duration_seconds_bucket{le="+Inf"} 2
certagent_issuance_duration_seconds_sum 46.5
certagent_issuance_duration_seconds_count 2
# HELP certagent_policy_valid 0 while the policy file is invalid (the previous one is in force).
# TYPE certagent_policy_valid gauge
certagent_policy_valid 1
# HELP certagent_last_pass_timestamp_seconds When the last pass started (Unix time).
# TYPE certagent_last_pass_timestamp_seconds gauge
certagent_last_pass_timestamp_seconds 1746000000
)";
  EXPECT_EQ(render_metrics(state), expected);
}

TEST(Metrics, CountersAccumulateAndCertificatesAreReplaced) {
  MetricsState state;
  record_pass(state, WakeReason::Startup, sys_seconds{1s}, sample_summary());
  PassSummary second;
  second.policy_error = "policy.json:1:1: bad";
  second.attempts = {{"front-end", "renew", true, 700s}};
  record_pass(state, WakeReason::PolicyChanged, sys_seconds{2s}, second);
  EXPECT_TRUE(state.certificates.empty());
  EXPECT_FALSE(state.policy_valid);
  EXPECT_EQ((state.issuances[{"front-end", "renew", "success"}]), 2u);
  EXPECT_EQ(state.duration_count, 3u);
  const std::string text = render_metrics(state);
  EXPECT_NE(text.find("certagent_issuance_duration_seconds_bucket{le=\"600\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("certagent_issuance_duration_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("certagent_passes_total{reason=\"policy-changed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("certagent_policy_valid 0\n"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  MetricsState state;
  CertificateStatus c;
  c.id = "we\"ird\\id\n";
  c.purposes = {{"Default", "", std::nullopt}};
  state.certificates.push_back(c);
  EXPECT_NE(render_metrics(state).find("certagent_purpose_bound{purpose=\"Default\",certificate=\"we\\\"ird\\\\id\\n\"} 0\n"),
            std::string::npos);
}

TEST(MetricsAddress, LoopbackOnlyUnlessAllowed) {
  auto a = parse_listen_address("127.0.0.1:9464", false);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9464);
  auto v6 = parse_listen_address("[::1]:9464", false);
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  auto local = parse_listen_address("localhost:0", false);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_TRUE(parse_listen_address("127.5.6.7:1", false));

  for (const char* remote : {"0.0.0.0:9464", "192.0.2.1:9464", "[::]:9464", "[2001:db8::1]:9464"}) {
    auto r = parse_listen_address(remote, false);
    ASSERT_FALSE(r) << remote;
    EXPECT_NE(r.error().message.find("not a loopback address"), std::string::npos) << r.error().message;
    EXPECT_TRUE(parse_listen_address(remote, true)) << remote;
  }
  for (const char* bad : {"9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:http", "example.com:9464", ":9464"}) {
    auto r = parse_listen_address(bad, true);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
  }
  EXPECT_TRUE(is_loopback("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback("::ffff:10.0.0.1"));
}

// One HTTP/1.1 request over a plain socket; returns the whole response.
std::string http_get(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return "connect failed: " + std::string(std::strerror(errno));
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(MetricsEndpoint, TheDaemonServesTheLastPassOnLoopback) {
  DaemonOptions options;
  options.metrics = ListenAddress{"127.0.0.1", 0};
  testing::DaemonChild child(options, [](const PassRequest& r, const auto&) {
    PassSummary s = sample_summary();
    s.next_wake = r.now + std::chrono::hours(24);
    return s;
  });
  const auto port_line = child.next_line(5s);
  ASSERT_TRUE(port_line && port_line->starts_with("port ")) << port_line.value_or("(nothing)");
  const auto port = static_cast<std::uint16_t>(std::stoi(port_line->substr(5)));
  ASSERT_EQ(child.next_line(5s), "pass startup");
  std::string response;
  for (int i = 0; i < 50; ++i) {  // until the pass's summary has reached the loop
    response = http_get(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    if (response.find("front-end") != std::string::npos) break;
    ::usleep(50'000);
  }
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(response.find("certagent_certificate_expiry_timestamp_seconds{purpose=\"Default\",certificate=\"front-end\","
                          "thumbprint=\"3FA1C09B77D2E410AABBCCDDEEFF001122334455\"} 1750000000\n"),
            std::string::npos)
      << response;
  EXPECT_TRUE(http_get(port, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
  EXPECT_TRUE(http_get(port, "POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
  EXPECT_TRUE(http_get(port, "nonsense\r\n\r\n").starts_with("HTTP/1.1 400 "));
  EXPECT_EQ(http_get(port, std::string(9000, 'x')), "");  // over 8 KiB without a request: dropped
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(3s), 0);
}

TEST(MetricsEndpoint, AnAddressInUseStopsTheDaemonWithExitOne) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  DaemonOptions options;
  options.metrics = ListenAddress{"127.0.0.1", ntohs(sa.sin_port)};
  testing::DaemonChild child(options, [](const PassRequest& r, const auto&) {
    return testing::summary_waking_at(r.now + std::chrono::hours(24));
  });
  EXPECT_EQ(child.next_line(5s), "exit 1 passes 0");
  EXPECT_EQ(child.wait_exit(3s), 1);
  ::close(fd);
}

}  // namespace
}  // namespace certagent::agent
