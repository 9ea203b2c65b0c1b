#include "common/escape.hpp"
#include "protocol/acme/account.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/acme/json.hpp"
#include "protocol/acme/jws.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

constexpr size_t kMaxContacts = 32;

json::array to_json_array(const std::vector<std::string>& items) {
  json::array arr;
  for (const auto& s : items) arr.emplace_back(s);
  return arr;
}

// Reads the account object and Location of a newAccount / account-update answer.
Result<Account> read_account(const HttpResponse& resp, AccountRef ref, std::string_view doing) {
  auto obj = json_body(resp, "account");
  if (!obj) return std::unexpected(std::move(obj.error()).context(std::string(doing)));
  Account account;
  account.ref = std::move(ref);
  account.status = string_member(*obj, "status").value_or("");
  auto contact = string_array(*obj, "contact", "account", kMaxContacts);
  if (!contact) return std::unexpected(std::move(contact.error()).context(std::string(doing)));
  account.contact = std::move(*contact);
  account.created = resp.status == 201;
  if (!account.status.empty() && account.status != "valid")
    return fail(ErrorKind::Unauthorized,
                std::string(doing) + ": the account is " + escape_control(account.status, 40) + ", not valid");
  return account;
}

// POST to newAccount signed with the key's JWK (§6.2: no account URL yet).
Result<Account> post_new_account(AcmeSession& session, std::shared_ptr<const PrivateKey> key,
                                 const std::function<Result<json::object>()>& payload, std::string_view doing) {
  auto body = payload();
  if (!body) return std::unexpected(std::move(body.error()).context(std::string(doing)));
  std::string text = json::serialize(*body);
  const std::string& url = session.directory().new_account;
  auto resp = session.post_jws(url, [&](const std::string& nonce) {
    return sign_jws(JwsSigner{*key, ""}, url, nonce, text);
  }, doing);
  if (!resp) return std::unexpected(resp.error());
  auto loc = location_of(*resp, "account");
  if (!loc) return std::unexpected(std::move(loc.error()).context(std::string(doing)));
  auto account = read_account(*resp, AccountRef{key, *loc}, doing);
  if (account) session.set_account(account->ref);
  return account;
}

Result<void> check_new_account_options(const Directory& dir, const NewAccountOptions& options) {
  if (!dir.terms_of_service.empty() && !options.agree_to_terms)
    return fail(ErrorKind::Invalid, "the CA requires agreeing to its terms of service (" +
                                        escape_control(dir.terms_of_service, 300) + ") to create an account");
  if (dir.external_account_required && !options.eab)
    return fail(ErrorKind::Invalid,
                "the CA requires an external account binding (a key id and MAC key from the CA) to create an account");
  if (options.contact.size() > kMaxContacts) return fail(ErrorKind::Invalid, "too many contacts");
  return ok();
}

}  // namespace

Result<Account> create_account(AcmeSession& session, std::shared_ptr<const PrivateKey> key,
                               const NewAccountOptions& options) {
  if (!key) return fail(ErrorKind::Invalid, "creating an ACME account: no account key");
  if (auto checked = check_new_account_options(session.directory(), options); !checked)
    return std::unexpected(std::move(checked.error()).context("creating an ACME account"));
  const PrivateKey& account_key = *key;  // `key` itself is moved into the request below
  auto payload = [&]() -> Result<json::object> {
    json::object p;
    if (!options.contact.empty()) p["contact"] = to_json_array(options.contact);
    if (options.agree_to_terms) p["termsOfServiceAgreed"] = true;
    if (options.eab) {
      auto eab = eab_jws(account_key, options.eab->kid, options.eab->mac_key, session.directory().new_account);
      if (!eab) return std::unexpected(eab.error());
      p["externalAccountBinding"] = std::move(*eab);
    }
    return p;
  };
  return post_new_account(session, std::move(key), payload, "creating an ACME account");
}

Result<Account> find_account(AcmeSession& session, std::shared_ptr<const PrivateKey> key) {
  if (!key) return fail(ErrorKind::Invalid, "looking up the ACME account: no account key");
  auto payload = []() -> Result<json::object> { return json::object{{"onlyReturnExisting", true}}; };
  return post_new_account(session, std::move(key), payload, "looking up the ACME account of this key");
}

Result<Account> update_contacts(AcmeSession& session, const std::vector<std::string>& contact) {
  if (contact.size() > kMaxContacts) return fail(ErrorKind::Invalid, "updating the account's contacts: too many");
  json::object p{{"contact", to_json_array(contact)}};
  AccountRef ref = session.account();
  auto resp = session.post(ref.url, json::serialize(p), "updating the account's contacts");
  if (!resp) return std::unexpected(resp.error());
  return read_account(*resp, std::move(ref), "updating the account's contacts");
}

Result<void> change_account_key(AcmeSession& session, std::shared_ptr<const PrivateKey> new_key) {
  const std::string doing = "rolling the account key over";
  const std::string& url = session.directory().key_change;
  if (url.empty()) return fail(ErrorKind::Protocol, doing + ": the CA's directory has no keyChange");
  if (!new_key) return fail(ErrorKind::Invalid, doing + ": no new key");
  AccountRef old = session.account();
  if (!old.key) return fail(ErrorKind::Invalid, doing + ": no ACME account is set on the session");
  auto old_jwk = public_jwk(*old.key);
  if (!old_jwk) return std::unexpected(std::move(old_jwk.error()).context(doing));
  json::object inner_payload{{"account", old.url}, {"oldKey", std::move(*old_jwk)}};
  // §7.3.5: the inner JWS is signed by the new key, with its JWK, the same url and no nonce.
  auto inner = sign_jws(JwsSigner{*new_key, ""}, url, "", json::serialize(inner_payload));
  if (!inner) return std::unexpected(std::move(inner.error()).context(doing));
  auto resp = session.post(url, *inner, doing);
  if (!resp) return std::unexpected(resp.error());
  session.set_account(AccountRef{std::move(new_key), old.url});
  return ok();
}

Result<void> deactivate_account(AcmeSession& session) {
  AccountRef ref = session.account();
  auto resp = session.post(ref.url, R"({"status":"deactivated"})", "deactivating the ACME account");
  if (!resp) return std::unexpected(resp.error());
  auto obj = json_body(*resp, "account");
  if (!obj) return std::unexpected(std::move(obj.error()).context("deactivating the ACME account"));
  if (string_member(*obj, "status").value_or("") != "deactivated")
    return fail(ErrorKind::Protocol, "deactivating the ACME account: the CA did not report it deactivated");
  return ok();
}

}  // namespace certagent::protocol
