#include "agent/store/certificate_meta.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace certagent::agent {
namespace {

using namespace std::chrono;

CertificateMeta sample() {
  CertificateMeta m;
  m.certificate_id = "front-end";
  m.names = {"pool.example.com", "lyncdiscover.example.com"};
  m.subject = "CN=pool.example.com";
  m.issuer = "CN=Test CA";
  m.not_before = sys_days(year(2025) / 3 / 1) + hours(12);
  m.not_after = m.not_before + days(90);
  m.thumbprint = std::string(40, 'A');
  m.sha256 = std::string(64, 'B');
  m.serial = "0A";
  m.key_type = "ec-p256";
  m.order_url = "https://ca.example/order/1";
  m.stored_at = m.not_before + hours(1);
  return m;
}

TEST(CertificateMeta, JsonRoundTrip) {
  auto m = sample();
  auto text = boost::json::serialize(to_json(m));
  EXPECT_NE(text.find("\"not_before\":\"2025-03-01T12:00:00Z\""), std::string::npos) << text;
  auto back = meta_from_json(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, m);
}

// The profile the order asked for is stored with the certificate; none: no "profile" key.
TEST(CertificateMeta, TheProfileIsStoredWhenThereIsOne) {
  auto m = sample();
  EXPECT_FALSE(to_json(m).as_object().contains("profile"));
  m.profile = "tlsserver";
  auto text = boost::json::serialize(to_json(m));
  EXPECT_NE(text.find("\"profile\":\"tlsserver\""), std::string::npos) << text;
  auto back = meta_from_json(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->profile, "tlsserver");
  auto v = to_json(m);
  v.as_object()["profile"] = 7;
  auto bad = meta_from_json(boost::json::serialize(v));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("\"profile\""), std::string::npos) << bad.error().message;
}

TEST(CertificateMeta, BadJsonIsAnErrorNamingTheProblem) {
  EXPECT_FALSE(meta_from_json("{not json"));
  EXPECT_FALSE(meta_from_json("[]"));
  auto v = to_json(sample());
  v.as_object().erase("thumbprint");
  auto r = meta_from_json(boost::json::serialize(v));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("\"thumbprint\""), std::string::npos) << r.error().message;
  v = to_json(sample());
  v.as_object()["not_after"] = "yesterday";
  r = meta_from_json(boost::json::serialize(v));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("\"not_after\""), std::string::npos) << r.error().message;
  v = to_json(sample());
  v.as_object()["format"] = 2;
  EXPECT_FALSE(meta_from_json(boost::json::serialize(v)));
  v = to_json(sample());
  v.as_object()["names"] = boost::json::array{1};
  EXPECT_FALSE(meta_from_json(boost::json::serialize(v)));
}

TEST(Rfc3339, FormatsAndParses) {
  sys_seconds t = sys_days(year(2024) / 2 / 29) + hours(23) + minutes(59) + seconds(58);
  EXPECT_EQ(format_rfc3339(t), "2024-02-29T23:59:58Z");
  EXPECT_EQ(*parse_rfc3339("2024-02-29T23:59:58Z"), t);
  EXPECT_EQ(*parse_rfc3339("2024-02-29T23:59:58.123456z"), t);
  EXPECT_EQ(*parse_rfc3339("2024-03-01T01:59:58+02:00"), t);
  EXPECT_EQ(*parse_rfc3339("2024-02-29T20:59:58-03:00"), t);
}

TEST(Rfc3339, RefusesEverythingElse) {
  for (const char* s : {"", "2024-02-30T00:00:00Z", "2024-02-29 23:59:58Z", "2024-02-29T23:59:58",
                        "2024-02-29T24:00:00Z", "2024-02-29T23:59:58+0200", "2024-02-29T23:59:58.Z",
                        "2024-02-29T23:59:58Zjunk", "+2024-02-29T23:59:58Z"})
    EXPECT_FALSE(parse_rfc3339(s)) << s;
}

TEST(Thumbprint, AcceptsTheFormsPeoplePaste) {
  std::string want = "3A5F0C7E9B1D2F4A6C8E0B1D3F5A7C9E1B3D5F7A";
  EXPECT_EQ(*normalize_thumbprint(want), want);
  EXPECT_EQ(*normalize_thumbprint("3a5f0c7e9b1d2f4a6c8e0b1d3f5a7c9e1b3d5f7a"), want);
  EXPECT_EQ(*normalize_thumbprint("3a 5f 0c 7e 9b 1d 2f 4a 6c 8e 0b 1d 3f 5a 7c 9e 1b 3d 5f 7a"), want);
  EXPECT_EQ(*normalize_thumbprint("3A:5F:0C:7E:9B:1D:2F:4A:6C:8E:0B:1D:3F:5A:7C:9E:1B:3D:5F:7A"), want);
  EXPECT_EQ(*normalize_thumbprint("\xE2\x80\x8E" "3a 5f 0c 7e 9b 1d 2f 4a 6c 8e 0b 1d 3f 5a 7c 9e 1b 3d 5f 7a\n"), want);
  EXPECT_EQ(normalize_thumbprint(std::string(64, 'c'))->size(), 64u);
}

TEST(Thumbprint, RefusesOtherLengthsAndCharacters) {
  auto r = normalize_thumbprint("3A5F");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("this one has 4"), std::string::npos) << r.error().message;
  EXPECT_FALSE(normalize_thumbprint(std::string(39, 'a') + "g"));
  EXPECT_FALSE(normalize_thumbprint(std::string(40, 'a') + "\x1b[31m"));
  EXPECT_FALSE(normalize_thumbprint(""));
}

}  // namespace
}  // namespace certagent::agent
