// ARI (RFC 9773) in the engine: the renewal window of each bound certificate fetched before
// planning, kept in the state directory, re-checked when its Retry-After says, and used by
// the renewal decision; a CA without renewalInfo costs one directory look a day.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "agent/engine/acme.hpp"
#include "agent/engine/records.hpp"
#include "agent/engine/ari.hpp"
#include "agent/engine/renewal_decision.hpp"
#include "agent/engine/installed_state.hpp"
#include "agent/store/order_journal.hpp"
#include "agent/store/schedule.hpp"
#include "protocol/acme_fakes.hpp"
#include "store_support.hpp"
#include "support/test_pki.hpp"

namespace certagent::agent {
namespace {

using namespace std::chrono_literals;
constexpr const char* kDirectory = "https://ca.test/dir";

struct FakeCa {
  std::string renewal_info = "https://ca.test/renewal-info";
  std::optional<Error> fetch_error;
  std::optional<Seconds> retry_after = Seconds(3 * 3600);
  TimePoint window_start{}, window_end{};
  int directory_reads = 0;
  std::vector<std::string> fetched;

  AriSource source() {
    AriSource s;
    s.renewal_info_url = [this]() -> Result<std::string> {
      ++directory_reads;
      return renewal_info;
    };
    s.fetch = [this](std::string_view id) -> Result<protocol::RenewalInfo> {
      fetched.emplace_back(id);
      if (fetch_error) return std::unexpected(*fetch_error);
      return protocol::RenewalInfo{window_start, window_end, "", retry_after};
    };
    return s;
  }
};

class EngineAri : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(dir_.path() / "state", OpenOptions{true, {}});
    ASSERT_TRUE(opened) << opened.error().message;
    store_.emplace(std::move(*opened));
    certagent::testing::TestCa ca;
    auto key = certagent::testing::new_key();
    certagent::testing::CertSpec spec;
    spec.dns_names = {"a.example"};
    spec.not_before = std::chrono::system_clock::now() - 1h;
    spec.not_after = spec.not_before + 24h * 90;
    leaf_.emplace(ca.issue(key, spec));
    NewVersion v{key.to_pem().value(), leaf_->pem().value(), ca.pem(), {}};
    v.meta.certificate_id = "web";
    v.meta.key_type = "ec-p256";
    auto id = store_->add_version(v);
    ASSERT_TRUE(id) << id.error().message;
    const std::vector<std::string> purposes{"Default"};
    ASSERT_TRUE(store_->bind(purposes, *id));
    thumbprint_ = leaf_->info().sha1_thumbprint;
    ca_.window_start = now_ + 24h;
    ca_.window_end = now_ + 48h;
  }

  Inventory inventory() { return store_->inventory().value(); }
  void refresh(TimePoint at) {
    SharedStore shared(*store_);
    refresh_renewal_info(shared, inventory(), kDirectory, ca_.source(), at);
  }

  certagent::agent::testing::TempDir dir_;
  std::optional<Store> store_;
  std::optional<protocol::Certificate> leaf_;
  std::string thumbprint_;
  FakeCa ca_;
  TimePoint now_ = std::chrono::floor<Seconds>(std::chrono::system_clock::now());
};

TEST_F(EngineAri, TheWindowOfABoundCertificateIsFetchedKeptAndUsedForItsRenewalTime) {
  refresh(now_);
  const auto expected_id = protocol::ari_cert_id(leaf_->info().authority_key_id, leaf_->info().serial_der).value();
  ASSERT_THAT(ca_.fetched, ::testing::ElementsAre(expected_id));
  auto record = read_ari_record(*store_, thumbprint_);
  ASSERT_TRUE(record && *record);
  EXPECT_EQ((*record)->start, ca_.window_start);
  EXPECT_EQ((*record)->end, ca_.window_end);
  EXPECT_EQ((*record)->recheck_at, now_ + 3h) << "Retry-After";
  EXPECT_EQ((*record)->fetched_at, now_);

  auto windows = ari_windows(*store_, inventory(), kDirectory, now_);
  ASSERT_EQ(windows.windows.count(thumbprint_), 1u);
  EXPECT_EQ(windows.earliest_recheck, now_ + 3h);
  auto installed = to_installed(inventory());
  Rng rng(7);
  auto choices = precompute_renewal(installed, inventory(), policy::Renewal{}, *store_, now_ + 1h, rng,
                                    windows.windows);
  ASSERT_TRUE(installed.certificates.at(0).renew_at);
  const auto at = *installed.certificates[0].renew_at;
  EXPECT_GE(at, ca_.window_start);
  EXPECT_LE(at, ca_.window_end) << "inside the CA's window, not at two thirds of the lifetime";
  ASSERT_EQ(choices.count(thumbprint_), 1u);
  EXPECT_EQ(choices[thumbprint_].basis, policy::RenewalBasis::AriWindow);
  EXPECT_EQ(choices[thumbprint_].ari_fetched_at, now_) << "when the window was fetched, not when it was used";
  EXPECT_EQ(choices[thumbprint_].selected, at);
}

TEST_F(EngineAri, TheScheduleRecordsTheBasisAndWhenTheWindowWasFetched) {
  refresh(now_);
  auto installed = to_installed(inventory());
  Rng rng(7);
  auto choices = precompute_renewal(installed, inventory(), policy::Renewal{}, *store_, now_ + 2h, rng,
                                    ari_windows(*store_, inventory(), kDirectory, now_ + 2h).windows);
  policy::Action action;
  action.certificate.id = "web";
  action.certificate.purposes = {"Default"};
  action.thumbprint = thumbprint_;
  action.renewal_due = installed.certificates.at(0).renew_at;
  ASSERT_TRUE(save_schedule(SharedStore(*store_).lock(), action, {}, now_ + 2h, choices.at(thumbprint_)));
  auto saved = read_schedule(store_->dir(), "web");
  ASSERT_TRUE(saved && *saved) << (saved ? "no schedule" : saved.error().message);
  EXPECT_EQ((*saved)->basis, policy::RenewalBasis::AriWindow);
  EXPECT_EQ((*saved)->ari_fetched_at, now_);
  EXPECT_EQ((*saved)->decided_at, now_ + 2h);

  // Without a window: the lifetime rule, and no fetch time.
  auto plain = to_installed(inventory());
  auto lifetime = precompute_renewal(plain, inventory(), policy::Renewal{}, *store_, now_, rng);
  EXPECT_EQ(lifetime.at(thumbprint_).basis, policy::RenewalBasis::Lifetime);
  EXPECT_EQ(lifetime.at(thumbprint_).ari_fetched_at, std::nullopt);
  ASSERT_TRUE(save_schedule(SharedStore(*store_).lock(), action, {}, now_, lifetime.at(thumbprint_)));
  EXPECT_EQ(read_schedule(store_->dir(), "web").value()->basis, policy::RenewalBasis::Lifetime);
  ASSERT_TRUE(save_schedule(SharedStore(*store_).lock(), action, {}, now_));  // after an attempt: nothing decided
  EXPECT_EQ(read_schedule(store_->dir(), "web").value()->basis, std::nullopt);
}

TEST_F(EngineAri, TheWindowIsAskedForAgainOnlyWhenRetryAfterHasPassed) {
  refresh(now_);
  refresh(now_ + 2h);
  EXPECT_EQ(ca_.fetched.size(), 1u) << "not before Retry-After";
  ca_.window_start = now_ + 1h;  // the CA moved the window (e.g. an incident)
  ca_.retry_after = Seconds(5);  // clamped to a minute
  refresh(now_ + 3h);
  EXPECT_EQ(ca_.fetched.size(), 2u);
  auto record = read_ari_record(*store_, thumbprint_).value();
  EXPECT_EQ(record->start, now_ + 1h);
  EXPECT_EQ(record->recheck_at, now_ + 3h + 60s);
  ca_.retry_after.reset();  // none given: six hours
  refresh(now_ + 3h + 60s);
  EXPECT_EQ(read_ari_record(*store_, thumbprint_).value()->recheck_at, now_ + 3h + 60s + 6h);
  EXPECT_EQ(ca_.directory_reads, 1) << "the directory is looked at once a day";
}

TEST_F(EngineAri, ACaWithoutRenewalInfoIsNotAskedForWindowsAndItsDirectoryOnceADay) {
  ca_.renewal_info = "";
  refresh(now_);
  refresh(now_ + 23h);
  EXPECT_TRUE(ca_.fetched.empty());
  EXPECT_EQ(ca_.directory_reads, 1);
  EXPECT_TRUE(ari_windows(*store_, inventory(), kDirectory, now_).windows.empty());
  refresh(now_ + 24h);
  EXPECT_EQ(ca_.directory_reads, 2);
}

TEST_F(EngineAri, AFailedReCheckKeepsThePreviousWindowAndAsksAgainInAnHour) {
  refresh(now_);
  ca_.fetch_error = Error{ErrorKind::Transport, "connection refused"};
  refresh(now_ + 3h);
  auto record = read_ari_record(*store_, thumbprint_).value();
  ASSERT_TRUE(record);
  EXPECT_EQ(record->start, ca_.window_start);
  EXPECT_EQ(record->recheck_at, now_ + 3h + kAriRetryAfterFailure);
  EXPECT_EQ(record->fetched_at, now_) << "the window is still the one fetched first";
}

TEST_F(EngineAri, ARecordWithoutAFetchTimeOrInAnotherFormatIsRefused) {
  const std::string thumbprint(40, 'A');
  std::filesystem::create_directories(store_->dir() / "ari");
  std::ofstream(store_->dir() / "ari" / (thumbprint + ".json"))
      << R"({"format":1,"cert_id":"aki.serial","start":1750000000,"end":1750086400,"recheck_at":1749990000})";
  auto missing = read_ari_record(*store_, thumbprint);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no time \"fetched_at\""), std::string::npos) << missing.error().message;
  std::ofstream(store_->dir() / "ari" / (thumbprint + ".json"))
      << R"({"version":1,"cert_id":"x","start":1750000000,"end":1750086400,"recheck_at":1,"fetched_at":1})";
  auto other = read_ari_record(*store_, thumbprint);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("not a record certagent wrote"), std::string::npos) << other.error().message;
}

TEST_F(EngineAri, WindowsLearnedFromAnotherCaAreNotUsed) {
  refresh(now_);
  EXPECT_TRUE(ari_windows(*store_, inventory(), "https://other.test/dir", now_).windows.empty());
}

TEST_F(EngineAri, TheCertIdOfAStoredVersionIsRfc9773s) {
  auto inv = inventory();
  ASSERT_EQ(inv.versions.size(), 1u);
  EXPECT_EQ(ari_cert_id_of(inv.versions[0]).value(),
            protocol::ari_cert_id(leaf_->info().authority_key_id, leaf_->info().serial_der).value());
}

TEST_F(EngineAri, ARecordCertagentDidNotWriteIsRefused) {
  std::filesystem::create_directories(store_->dir() / "ari");
  std::ofstream(store_->dir() / "ari" / "ca.json") << R"({"directory": 5})";
  auto note = read_ca_directory_note(*store_);
  ASSERT_FALSE(note);
  EXPECT_THAT(note.error().message, ::testing::HasSubstr("not a record certagent wrote"));
  EXPECT_FALSE(read_ari_record(*store_, "../../etc/passwd"));
}

TEST_F(EngineAri, TheDirectoryNoteIsWrittenOncePerPassNotOncePerOrder) {
  const CaDirectoryNote first{kDirectory, "https://ca.test/renewal-info", now_};
  ASSERT_TRUE(note_ca_directory(SharedStore(*store_).lock(), first));
  // The orders of the same pass, seconds later, note the same directory: the note stands.
  ASSERT_TRUE(note_ca_directory(SharedStore(*store_).lock(), CaDirectoryNote{kDirectory, first.renewal_info, now_ + 30s}));
  EXPECT_EQ(read_ca_directory_note(*store_).value()->checked_at, now_) << "not rewritten";
  // A later pass (an hour on), another renewalInfo or another CA: written again.
  ASSERT_TRUE(note_ca_directory(SharedStore(*store_).lock(), CaDirectoryNote{kDirectory, first.renewal_info, now_ + kCaNoteRewrite}));
  EXPECT_EQ(read_ca_directory_note(*store_).value()->checked_at, now_ + kCaNoteRewrite);
  ASSERT_TRUE(note_ca_directory(SharedStore(*store_).lock(), CaDirectoryNote{kDirectory, "", now_ + kCaNoteRewrite + 1s}));
  EXPECT_EQ(read_ca_directory_note(*store_).value()->renewal_info, "");
  ASSERT_TRUE(note_ca_directory(SharedStore(*store_).lock(), CaDirectoryNote{"https://other.test/dir", "", now_ + kCaNoteRewrite + 2s}));
  EXPECT_EQ(read_ca_directory_note(*store_).value()->directory_url, "https://other.test/dir");
}

TEST(EngineAriRecords, ALostAccountIsRecognisedByItsProblemType) {
  Error lost{ErrorKind::Unauthorized, "no such account"};
  lost.problem_type = "urn:ietf:params:acme:error:accountDoesNotExist";
  EXPECT_TRUE(is_lost_account(lost));
  EXPECT_FALSE(is_lost_account(Error{ErrorKind::Unauthorized, "unauthorized"}));
}

// newOrder through the engine's order step, against a recorded exchange.
class PlaceOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(dir_.path() / "state", OpenOptions{true, {}});
    ASSERT_TRUE(opened) << opened.error().message;
    store_.emplace(std::move(*opened));
  }
  // Opens the session on a directory with (or without) renewalInfo.
  std::optional<protocol::AcmeSession> open(bool ari) {
    using namespace protocol::testing;
    net_.add(protocol::Method::Get, kDir,
             reply_without_nonce(200, directory_json("", ari ? R"("renewalInfo":"https://ca.test/ari",)" : "")));
    auto session = protocol::AcmeSession::open(net_, time_, time_, kDir);
    if (!session) return std::nullopt;
    auto key = std::make_shared<const protocol::PrivateKey>(*protocol::PrivateKey::generate(protocol::KeyType::EcP256));
    session->set_account(protocol::AccountRef{key, "https://ca.test/acct/1"});
    net_.add(protocol::Method::Head, "https://ca.test/nonce", protocol::testing::reply(200, ""));
    return std::move(*session);
  }
  void answer_order() {
    net_.add(protocol::Method::Post, "https://ca.test/order",
             protocol::testing::reply(201, kOrder, "application/json", {{"Location", "https://ca.test/o/1"}}));
  }
  std::string sent_replaces(std::size_t i) {
    auto payload = boost::json::parse(protocol::testing::decode_jws(net_.sent.at(i).body).payload).as_object();
    const auto* r = payload.if_contains("replaces");
    return r ? std::string(r->as_string()) : "";
  }

  static constexpr const char* kOrder =
      R"({"status":"pending","identifiers":[{"type":"dns","value":"a.example"}],)"
      R"("authorizations":["https://ca.test/authz/0"],"finalize":"https://ca.test/finalize/1"})";
  certagent::agent::testing::TempDir dir_;
  std::optional<Store> store_;
  protocol::testing::ScriptedTransport net_;
  protocol::testing::SimTime time_;
  OrderRequest request_{"web", {"a.example"}, policy::KeyType::EcP256, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", ""};
};

TEST_F(PlaceOrder, ARenewalCarriesReplacesWhenTheCaOffersAri) {
  auto session = open(true);
  ASSERT_TRUE(session);
  answer_order();
  auto placed = place_order(*session, request_, *store_);
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(sent_replaces(2), request_.replaces);
  auto journal = read_order_journal(store_->dir(), "web");
  ASSERT_TRUE(journal && *journal);
  EXPECT_EQ((*journal)->order_url, "https://ca.test/o/1");
}

TEST_F(PlaceOrder, WithoutRenewalInfoInTheDirectoryThereIsNoReplaces) {
  auto session = open(false);  // pebble 2.4
  ASSERT_TRUE(session);
  answer_order();
  ASSERT_TRUE(place_order(*session, request_, *store_));
  EXPECT_EQ(sent_replaces(2), "");
}

TEST_F(PlaceOrder, AnOrderRefusedBecauseOfReplacesIsPlacedAgainWithoutIt) {
  auto session = open(true);
  ASSERT_TRUE(session);
  net_.add(protocol::Method::Post, "https://ca.test/order",
           protocol::testing::problem(409, "alreadyReplaced", "that certificate was already replaced"));
  answer_order();
  auto placed = place_order(*session, request_, *store_);
  ASSERT_TRUE(placed) << placed.error().message;
  ASSERT_EQ(net_.sent.size(), 4u);
  EXPECT_EQ(sent_replaces(2), request_.replaces);
  EXPECT_EQ(sent_replaces(3), "");
}

}  // namespace
}  // namespace certagent::agent

namespace certagent::agent {
namespace {

TEST_F(PlaceOrder, AnOrderTheCaRefusesForItsSizeSaysHowManyNamesItAskedAndWhatToChange) {
  auto session = open(false);
  ASSERT_TRUE(session);
  request_.names = {"a.example", "b.example", "c.example"};
  net_.add(protocol::Method::Post, "https://ca.test/order",
           protocol::testing::problem(400, "rejectedIdentifier", "too many identifiers in one order"));
  auto placed = place_order(*session, request_, *store_);
  ASSERT_FALSE(placed);
  EXPECT_NE(placed.error().message.find("too many identifiers in one order"), std::string::npos) << placed.error().message;
  EXPECT_NE(placed.error().message.find("the order asked for 3 names on one certificate"), std::string::npos)
      << placed.error().message;
  EXPECT_NE(placed.error().message.find("ca.max_names"), std::string::npos) << placed.error().message;
}

TEST_F(PlaceOrder, AOneNameOrderRefusedGetsNoNameLimitAdvice) {
  auto session = open(false);
  ASSERT_TRUE(session);
  net_.add(protocol::Method::Post, "https://ca.test/order",
           protocol::testing::problem(400, "rejectedIdentifier", "policy forbids a.example"));
  auto placed = place_order(*session, request_, *store_);
  ASSERT_FALSE(placed);
  EXPECT_EQ(placed.error().message.find("ca.max_names"), std::string::npos) << placed.error().message;
}

}  // namespace
}  // namespace certagent::agent
