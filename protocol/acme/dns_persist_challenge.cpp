// The dns-persist-01 fields of a challenge object (draft-ietf-acme-dns-persist §3.1). They end
// up in a TXT value an operator publishes, so whatever the CA sends is checked strictly: an
// issuer name carrying "; accounturi=..." must not smuggle a parameter into the record.
#include <algorithm>

#include <boost/json.hpp>

#include "common/escape.hpp"
#include "common/dns_name.hpp"
#include "protocol/acme/json.hpp"
#include "protocol/acme/order.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

constexpr size_t kMaxAccountUri = 1000;

Result<std::string> issuer_domain_name(const json::value& v) {
  if (!v.is_string()) return fail(ErrorKind::Protocol, "an issuer domain name is not a string");
  const std::string s(v.as_string());
  auto name = normalize_dns_name(s);
  if (!name || *name != s || s.starts_with("*."))
    return fail(ErrorKind::Protocol, "the issuer domain name '" + escape_control(s, 80) + "' is not a lower-case DNS name");
  return s;
}

Result<std::vector<std::string>> issuer_domain_names(const json::object& obj) {
  const auto* v = obj.if_contains("issuer-domain-names");
  if (v == nullptr || !v->is_array()) return fail(ErrorKind::Protocol, "it has no \"issuer-domain-names\" array");
  const auto& a = v->as_array();
  if (a.empty() || a.size() > kMaxIssuerDomainNames)
    return fail(ErrorKind::Protocol, "\"issuer-domain-names\" has " + std::to_string(a.size()) +
                                         " entries (1 to " + std::to_string(kMaxIssuerDomainNames) + " allowed)");
  std::vector<std::string> out;
  for (const auto& e : a) {
    auto name = issuer_domain_name(e);
    if (!name) return std::unexpected(name.error());
    out.push_back(std::move(*name));
  }
  return out;
}

// RFC 8659 §4.2 value characters: printable ASCII without ';' or space.
bool issue_value_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x21 && c <= 0x7E && c != ';'; });
}

Result<std::string> account_uri(const json::object& obj) {
  const auto* v = obj.if_contains("accounturi");
  if (v == nullptr) return std::string();
  if (!v->is_string()) return fail(ErrorKind::Protocol, "\"accounturi\" is not a string");
  std::string s(v->as_string());
  if (s.size() > kMaxAccountUri || !issue_value_text(s) || !s.starts_with("https://"))
    return fail(ErrorKind::Protocol, "\"accounturi\" '" + escape_control(s, 120) +
                                         "' is not an https URL that fits a TXT record's issue-value");
  return s;
}

}  // namespace

Result<void> parse_dns_persist_fields(const json::object& obj, Challenge& challenge) {
  auto names = issuer_domain_names(obj);
  if (!names) return std::unexpected(std::move(names.error()).context("the CA's dns-persist-01 challenge is malformed"));
  auto account = account_uri(obj);
  if (!account) return std::unexpected(std::move(account.error()).context("the CA's dns-persist-01 challenge is malformed"));
  challenge.issuer_domain_names = std::move(*names);
  challenge.account_uri = std::move(*account);
  return {};
}

}  // namespace certagent::protocol
