// Accounts, external account binding, key rollover, revocation and alternate
// chains against a real pebble.
#include <gtest/gtest.h>

#include "acme_flow.hpp"
#include "protocol/acme/certificate.hpp"
#include "protocol/acme/revoke.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::integration {
namespace {
using namespace certagent::protocol;

std::shared_ptr<const PrivateKey> fresh_key(KeyType type = KeyType::EcP256) {
  return std::make_shared<const PrivateKey>(ok_or_throw(PrivateKey::generate(type), "key"));
}

TEST(PebbleEab, TheRightMacKeyCreatesAnAccountAndIssues) {
  AcmeFlow flow("eab");
  ASSERT_TRUE(flow.session->directory().external_account_required);
  auto account = create_account(*flow.session, fresh_key(),
                                NewAccountOptions{{}, true, ExternalAccountBinding{flow.env.key_id, flow.env.mac_key}});
  ASSERT_TRUE(account) << account.error().message;
  IssueRequest request;
  request.names = fresh_names(2, "eab");
  auto issued = issue_certificate(*flow.session, request, *flow.responder);
  EXPECT_TRUE(issued) << issued.error().message;
}

TEST(PebbleEab, TheMacKeyInStandardBase64WorksToo) {
  AcmeFlow flow("eab");
  auto mac = ok_or_throw(base64url_decode(flow.env.mac_key), "decoding the MAC key");
  auto account = create_account(*flow.session, fresh_key(),
                                NewAccountOptions{{}, true, ExternalAccountBinding{flow.env.key_id, base64_encode(mac)}});
  EXPECT_TRUE(account) << account.error().message;
}

TEST(PebbleEab, AWrongMacKeyFailsClearly) {
  AcmeFlow flow("eab");
  auto account = create_account(*flow.session, fresh_key(),
                                NewAccountOptions{{}, true, ExternalAccountBinding{flow.env.key_id, base64url_encode("wrong key, 32 bytes long........")}});
  ASSERT_FALSE(account);
  EXPECT_EQ(account.error().kind, ErrorKind::Unauthorized) << account.error().message;
  EXPECT_FALSE(account.error().retryable);
  EXPECT_NE(account.error().message.find("creating an ACME account"), std::string::npos) << account.error().message;
}

TEST(PebbleEab, NoBindingIsRefusedBeforeAsking) {
  AcmeFlow flow("eab");
  auto account = create_account(*flow.session, fresh_key(), NewAccountOptions{{}, true, std::nullopt});
  ASSERT_FALSE(account);
  EXPECT_EQ(account.error().kind, ErrorKind::Invalid);
}

TEST(PebbleAccount, FindsUpdatesAndDeactivates) {
  AcmeFlow flow("default");
  auto key = fresh_key();
  auto none = find_account(*flow.session, key);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::Unauthorized);
  auto created = create_account(*flow.session, key, NewAccountOptions{{}, true, std::nullopt});
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(created->created);
  auto found = find_account(*flow.session, key);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->ref.url, created->ref.url);
  EXPECT_FALSE(found->created);
  auto updated = update_contacts(*flow.session, {"mailto:ops@example.com"});
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->contact, (std::vector<std::string>{"mailto:ops@example.com"}));
  ASSERT_TRUE(deactivate_account(*flow.session));
  auto after = new_order(*flow.session, NewOrder{fresh_names(1, "deact"), "", ""});
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().kind, ErrorKind::Unauthorized) << after.error().message;
}

TEST(PebbleAccount, KeyRolloverThenIssuanceWithTheNewKey) {
  AcmeFlow flow("default");
  auto old_key = fresh_key(KeyType::EcP256);
  auto account = create_account(*flow.session, old_key, NewAccountOptions{{}, true, std::nullopt});
  ASSERT_TRUE(account) << account.error().message;
  auto new_key = fresh_key(KeyType::Rsa2048);
  auto rolled = change_account_key(*flow.session, new_key);
  ASSERT_TRUE(rolled) << rolled.error().message;
  EXPECT_EQ(flow.session->account().key, new_key);
  IssueRequest request;
  request.names = fresh_names(1, "rollover");
  auto issued = issue_certificate(*flow.session, request, *flow.responder);
  ASSERT_TRUE(issued) << issued.error().message;
  // The account answers to the new key only.
  auto by_new = find_account(*flow.session, new_key);
  ASSERT_TRUE(by_new) << by_new.error().message;
  EXPECT_EQ(by_new->ref.url, account->ref.url);
  auto by_old = find_account(*flow.session, old_key);
  EXPECT_FALSE(by_old);
}

TEST(PebbleRevocation, RevokesWithAReasonAndRefusesTwice) {
  AcmeFlow flow("default");
  flow.new_account();
  IssueRequest request;
  request.names = fresh_names(1, "revoke");
  auto issued = issue_certificate(*flow.session, request, *flow.responder);
  ASSERT_TRUE(issued) << issued.error().message;
  const auto& leaf = issued->chain.certificates.front();
  auto revoked = revoke_certificate(*flow.session, leaf, RevocationReason::Superseded);
  ASSERT_TRUE(revoked) << revoked.error().message;
  auto again = revoke_certificate(*flow.session, leaf, RevocationReason::Superseded);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::Rejected) << again.error().message;
  EXPECT_NE(again.error().message.find("alreadyRevoked"), std::string::npos) << again.error().message;
}

TEST(PebbleChains, ThePreferredAlternateChainIsChosen) {
  AcmeFlow flow("chains");
  flow.new_account();
  IssueRequest request;
  request.names = fresh_names(1, "chains");
  auto first = issue_certificate(*flow.session, request, *flow.responder);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_FALSE(first->chain.alternates.empty()) << "pebble offered no alternate chain";
  EXPECT_GE(first->chain.certificates.size(), 3u);  // PEBBLE_CHAIN_LENGTH=3: leaf + 2 intermediates
  std::string default_cn = top_issuer_cn(first->chain);
  auto alternate = download_chain(*flow.session, first->chain.alternates.front());
  ASSERT_TRUE(alternate) << alternate.error().message;
  std::string preferred = top_issuer_cn(*alternate);
  ASSERT_NE(preferred, default_cn);
  request.names = fresh_names(1, "chains");
  request.preferred_chain = preferred;
  auto second = issue_certificate(*flow.session, request, *flow.responder);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(top_issuer_cn(second->chain), preferred);
}

}  // namespace
}  // namespace certagent::integration
