// ACME profiles per certificate and short-lived certificates against every CA of ca_suite.hpp
// that offers profiles (pebble v2.10.3: pebble-ctl's `profiles` instance — classic 300 s with
// the subject CN, tlsserver 180 s without, shortlived 60 s). A CA without profiles skips them.
#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "ca_suite.hpp"
#include "daemon_support.hpp"
#include "engine_support.hpp"

namespace certagent::integration {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string describe(const ProcessOutcome& r) {
  return fmt::format("exit {} signal {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.signal, r.out, r.err);
}

// What the tests compare between certificates, read from a leaf PEM file as a consumer would.
struct Leaf {
  std::string serial;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  std::uint32_t eku = 0;  // X509_get_extended_key_usage: XKU_SSL_SERVER, ...
  std::string common_name;
  [[nodiscard]] long lifetime() const { return static_cast<long>(not_after - not_before); }
};

std::time_t to_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

std::optional<Leaf> read_leaf(const fs::path& pem) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(pem.c_str(), "r"), &std::fclose);
  if (!f) return std::nullopt;
  std::unique_ptr<X509, void (*)(X509*)> x(PEM_read_X509(f.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!x) return std::nullopt;
  Leaf leaf;
  std::unique_ptr<BIGNUM, void (*)(BIGNUM*)> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x.get()), nullptr), &BN_free);
  std::unique_ptr<char, void (*)(void*)> hex(BN_bn2hex(bn.get()), [](void* p) { OPENSSL_free(p); });
  leaf.serial = hex ? hex.get() : "";
  leaf.not_before = to_time(X509_get0_notBefore(x.get()));
  leaf.not_after = to_time(X509_get0_notAfter(x.get()));
  leaf.eku = X509_get_extended_key_usage(x.get());
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, cn, sizeof cn) > 0) leaf.common_name = cn;
  return leaf;
}

// "FILE:LINE:COLUMN" of the first occurrence of `needle` in `text` (ASCII), counted naively.
std::string location_of(const std::string& file, const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  int line = 1, column = 1;
  for (std::size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return fmt::format("{}:{}:{}", file, line, column);
}

// One custom role `web` with purposes https (www.example.org) and smtp (mail.example.org), each
// written to <box>/<purpose>.pem; `role_extra` and the purposes' extra members are spliced in.
struct WebPolicy {
  std::string layout = "separate";
  std::string role_extra;    // e.g. R"(, "profile": "tlsserver")"
  std::string https_extra;   // e.g. R"(, "profile": "classic")"
  std::string smtp_extra;
  std::string renewal;       // "" auto
  bool smtp = true;
};

// A WebPolicy whose role names `profile` (and only purpose https when `smtp` is false).
WebPolicy role_profile(const std::string& profile, bool smtp = true) {
  WebPolicy p;
  p.role_extra = fmt::format(R"(, "profile": "{}")", profile);
  p.smtp = smtp;
  return p;
}

std::string web_policy(const EngineSandbox& box, const WebPolicy& p) {
  const auto& pebble = box.pebble();
  std::string names = R"("https": ["www.example.org"])";
  std::string purposes = fmt::format(R"(  "https": {{"cert": "{}"{}}})", (box.dir() / "https.pem").string(), p.https_extra);
  if (p.smtp) {
    names += R"(, "smtp": ["mail.example.org"])";
    purposes += fmt::format(",\n  \"smtp\": {{\"cert\": \"{}\"{}}}", (box.dir() / "smtp.pem").string(), p.smtp_extra);
  }
  return fmt::format(
      "{{\n\"ca\": {{\"directory\": \"{}\", \"trust_bundle\": \"{}\"}},\n"
      "\"challenge\": {{\"type\": \"http-01\", \"listen\": \"127.0.0.1:{}\"}},\n{}"
      "\"roles\": [{{\"role\": \"custom\", \"id\": \"web\", \"layout\": \"{}\"{},\n"
      "  \"names\": {{{}}}}}],\n"
      "\"purposes\": {{\n{}\n}}\n}}\n",
      pebble.directory_url, pebble.tls_root, pebble.http01_port,
      p.renewal.empty() ? "" : fmt::format("\"renewal\": \"{}\",\n", p.renewal), p.layout, p.role_extra, names,
      purposes);
}

class CaProfiles : public ::testing::TestWithParam<CaUnderTest> {
 protected:
  void SetUp() override {
    if (!GetParam().profiles) GTEST_SKIP() << GetParam().name << " offers no certificate profiles";
  }
  [[nodiscard]] PebbleEnv env() const { return require_ca_env(GetParam(), "profiles"); }
};

TEST_P(CaProfiles, AnUnknownProfileIsAPolicyErrorAtItsPlaceListingTheCasProfilesBeforeAnyOrder) {
  EngineSandbox box(env());
  const std::string text = web_policy(box, role_profile("tlsservr"));
  box.replace_policy(text);
  const auto orders = ca_new_orders(box.pebble());
  auto r = box.certagent({"run", "--once"});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  const std::string at = location_of(box.policy_file().string(), text, "\"tlsservr\"");
  EXPECT_NE(r.err.find(fmt::format("{}: roles[0].profile: the CA {} does not offer the certificate profile 'tlsservr'; "
                                   "its profiles: classic, shortlived, tlsserver (write one of them)",
                                   at, box.pebble().directory_url)),
            std::string::npos)
      << describe(r);
  auto requested = box.certagent({"request", "--type", "https"});  // the same check outside a pass
  EXPECT_EQ(requested.exit_code, 2) << describe(requested);
  EXPECT_NE(requested.err.find(at + ": roles[0].profile: the CA "), std::string::npos) << describe(requested);
  EXPECT_EQ(ca_new_orders(box.pebble()), orders) << "no order for a profile the CA does not offer";
  EXPECT_FALSE(fs::exists(box.dir() / "https.pem"));
}

// The role names one profile, a purpose another; each certificate is ordered under its own,
// and `certs --json` shows the profile stored with it.
TEST_P(CaProfiles, APurposeOrItsRoleNamesTheProfileOfItsCertificate) {
  EngineSandbox box(env());
  WebPolicy policy = role_profile("tlsserver");
  policy.smtp_extra = R"(, "profile": "classic")";
  box.replace_policy(web_policy(box, policy));
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto https = read_leaf(box.dir() / "https.pem");
  auto smtp = read_leaf(box.dir() / "smtp.pem");
  ASSERT_TRUE(https && smtp);
  EXPECT_EQ(https->lifetime(), 179) << "tlsserver: 180 s (pebble's notAfter is notBefore + validity - 1 s)";
  EXPECT_EQ(https->common_name, "");
  EXPECT_EQ(smtp->lifetime(), 299) << "classic: 300 s";
  EXPECT_EQ(smtp->common_name, "mail.example.org") << "classic promotes the first name to the CN";
  auto certs = box.certs();
  EXPECT_EQ(certs.at("https").at("profile").as_string(), "tlsserver");
  EXPECT_EQ(certs.at("smtp").at("profile").as_string(), "classic");
}

TEST_P(CaProfiles, AChangedProfileReissuesUnderTheNewOne) {
  EngineSandbox box(env());
  WebPolicy policy = role_profile("tlsserver", false);
  box.replace_policy(web_policy(box, policy));
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  auto before = read_leaf(box.dir() / "https.pem");
  ASSERT_TRUE(before);
  const auto orders = ca_new_orders(box.pebble());
  auto kept = box.certagent({"run", "--once"});
  EXPECT_EQ(ca_new_orders(box.pebble()), orders) << "an unchanged profile is kept: " << describe(kept);
  policy.role_extra = R"(, "profile": "classic")";
  box.replace_policy(web_policy(box, policy));
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("was ordered under profile 'tlsserver', the policy wants profile 'classic'"), std::string::npos)
      << describe(r);
  EXPECT_EQ(ca_new_orders(box.pebble()), orders + 1);
  auto after = read_leaf(box.dir() / "https.pem");
  ASSERT_TRUE(after);
  EXPECT_NE(after->serial, before->serial);
  EXPECT_EQ(after->lifetime(), 299);
  EXPECT_EQ(after->common_name, "www.example.org");
}

// "renewal": "99%" makes the certificate due 3 s after it was issued; the renewal orders under
// the same profile, so the successor has the lifetime, extended key usage and subject shape of
// the one it replaces — where an order naming no profile gets a random one from pebble.
TEST_P(CaProfiles, ARenewalKeepsTheProfileItsLifetimeAndExtendedKeyUsage) {
  EngineSandbox box(env());
  WebPolicy policy = role_profile("classic", false);
  policy.renewal = "99%";
  box.replace_policy(web_policy(box, policy));
  ASSERT_EQ(box.certagent({"run", "--once"}).exit_code, 0);
  auto first = read_leaf(box.dir() / "https.pem");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->lifetime(), 299);
  const auto due = std::chrono::system_clock::from_time_t(first->not_before) + 4s;
  std::this_thread::sleep_until(due);  // the renewal time itself is what the test waits for
  const auto orders = ca_new_orders(box.pebble());
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("web: renew"), std::string::npos) << describe(r);
  EXPECT_EQ(ca_new_orders(box.pebble()), orders + 1);
  auto renewed = read_leaf(box.dir() / "https.pem");
  ASSERT_TRUE(renewed);
  EXPECT_NE(renewed->serial, first->serial);
  EXPECT_EQ(renewed->lifetime(), first->lifetime());
  EXPECT_EQ(renewed->eku, first->eku);
  EXPECT_TRUE(renewed->eku & XKU_SSL_SERVER);
  EXPECT_EQ(renewed->common_name, first->common_name);
  EXPECT_EQ(box.certs().at("https").at("profile").as_string(), "classic");
}

INSTANTIATE_TEST_SUITE_P(Cas, CaProfiles, ::testing::ValuesIn(cas_in_this_process()),
                         [](const ::testing::TestParamInfo<CaUnderTest>& info) { return info.param.name; });

// The daemon (`certagent run`) with one-minute certificates (pebble's `shortlived` profile, on
// the `continuity` instance: the orders counted are this test's): a probe reads the bound
// certificate once a second, as a consumer would, through 20 renewals.
class CaShortLived : public ::testing::TestWithParam<CaUnderTest> {
 protected:
  void SetUp() override {
    if (!GetParam().profiles) GTEST_SKIP() << GetParam().name << " offers no certificate profiles";
  }
};

struct Continuity {
  std::vector<Leaf> seen;                   // every distinct certificate the probe saw bound, in order
  long min_margin = std::numeric_limits<long>::max();  // seconds of validity left, the least seen
  std::vector<std::string> gaps;            // probes that found no valid certificate bound
  int probes = 0;
};

void probe_once(const fs::path& pem, Continuity& c) {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  auto leaf = read_leaf(pem);
  ++c.probes;
  if (!leaf) return c.gaps.push_back(fmt::format("at {}: no certificate readable", now));
  if (now < leaf->not_before || now >= leaf->not_after)
    c.gaps.push_back(fmt::format("at {}: certificate {} valid {} .. {}", now, leaf->serial, leaf->not_before,
                                 leaf->not_after));
  c.min_margin = std::min<long>(c.min_margin, static_cast<long>(leaf->not_after - now));
  if (c.seen.empty() || c.seen.back().serial != leaf->serial) c.seen.push_back(*leaf);
}

TEST_P(CaShortLived, TheDaemonKeepsAOneMinuteCertificateBoundThroughTwentyRenewals) {
  constexpr std::size_t kRenewals = 20;
  EngineSandbox box(require_ca_env(GetParam(), "continuity"));
  box.replace_policy(web_policy(box, role_profile("shortlived", false)));
  const auto orders_before = ca_new_orders(box.pebble());
  const auto started = std::chrono::steady_clock::now();
  AgentProcess agent(box, box.dir() / "agent.log");
  const fs::path pem = box.dir() / "https.pem";
  ASSERT_TRUE(poll_until([&] { return read_leaf(pem).has_value(); }, 60s)) << agent.log();
  Continuity c;
  auto next = std::chrono::steady_clock::now();
  while (c.seen.size() < kRenewals + 1 && std::chrono::steady_clock::now() - started < 14min && agent.running()) {
    probe_once(pem, c);
    next += 1s;
    std::this_thread::sleep_until(next);
  }
  const auto orders = ca_new_orders(box.pebble()) - orders_before;
  const auto wall = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  std::vector<double> at;  // when each renewal happened, as a share of the replaced certificate's lifetime
  for (std::size_t i = 1; i < c.seen.size(); ++i)
    at.push_back(double(c.seen[i].not_before - c.seen[i - 1].not_before) / double(c.seen[i - 1].lifetime() + 1));
  const std::string figures = fmt::format(
      "{} certificates seen ({} renewals) in {} s, {} probes, {} orders at the CA, least validity left {} s; "
      "renewed at {:.2f} of the lifetime",
      c.seen.size(), c.seen.size() - 1, wall.count(), c.probes, orders, c.min_margin, fmt::join(at, ", "));
  std::cout << "[ continuity ] " << figures << "\n";
  RecordProperty("continuity", figures);
  EXPECT_GE(c.seen.size(), kRenewals + 1) << figures << "\n" << agent.log();
  EXPECT_TRUE(c.gaps.empty()) << fmt::format("{}", fmt::join(c.gaps, "\n")) << "\n" << figures;
  EXPECT_GT(c.min_margin, 0) << figures;
  // One order per certificate the probe saw, and at most one more in flight when it stopped.
  EXPECT_GE(orders, c.seen.size()) << figures;
  EXPECT_LE(orders, c.seen.size() + 1) << figures << "\n" << agent.log();
  for (const auto& leaf : c.seen) EXPECT_EQ(leaf.lifetime(), 59) << "every one under the shortlived profile";
  // The half-lifetime rule (minus at most lifetime/30 of jitter), with a few seconds for a slow pass.
  for (double share : at) {
    EXPECT_GE(share, 0.40) << figures;
    EXPECT_LE(share, 0.65) << figures;
  }
}

INSTANTIATE_TEST_SUITE_P(Cas, CaShortLived, ::testing::ValuesIn(cas_in_this_process()),
                         [](const ::testing::TestParamInfo<CaUnderTest>& info) { return info.param.name; });

}  // namespace
}  // namespace certagent::integration
