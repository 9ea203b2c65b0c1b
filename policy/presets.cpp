#include "policy/presets.hpp"

#include <boost/json.hpp>

#include "policy/json_text.hpp"

namespace certagent::policy {
namespace {

// The text is put together from parts: the three roles that serve a front end's purposes
// (Standard Edition, an Enterprise pool's member, a Director) carry the same names, written once.
constexpr std::string_view kHead = R"json(// certagent's Lync Server 2013 presets, in the generic policy form.
//
// A role of kind K gets, for each purpose below, the names its templates give.
// {x} is a variable set from the role's fields; a list variable gives one name
// per element, and an empty or unset one gives none:
//   {pool_fqdn}            pool_fqdn (Standard Edition, Director: server_fqdn when unset)
//   {server_fqdn}          server_fqdn
//   {meet} {dialin} {admin}  simple_urls.meet / .dialin / .admin
//   {web_internal}         web_services.internal (default: the pool FQDN)
//   {web_external}         web_services.external
//   {sip_domains}          the policy's sip_domains
//   {autodiscover_domains} sip_domains ("autodiscover": "all-sip-domains", the default)
//                          or the role's explicit "autodiscover" list
// plus your own "variables". In a role, "names": {"Purpose": [...]} replaces a
// purpose's templates and "extra_names" adds to them. "rule" names the entry of
// "rules" (the sentence of the guide it comes from) that asks for the name.
{
  "rules": {
    "pool": "Pool name for this pool, or the single server name if this is not a pool (step 11)",
    "server": "Server name that the certificate is assigned to (step 11)",
    "simple-url": "Simple URL records, typically meet and dialin (step 11)",
    "web-services": "Web services internal and Web services external names (for example, webpool01.contoso.net, webpool01.contoso.com), based on choices made in Topology Builder and over-ridden web services selections. (step 11)",
    "autodiscover-internal": "For a missing internal Autodiscover subject alternative names when using separate certificates for Default, WebServicesInternal, and WebServicesExternal ... Request-CsCertificate -New -Type WebServicesInternal -Ca dc\\myca -AllSipDomain (step 13; step 12 for a single certificate)",
    "autodiscover-external": "For a missing external Autodiscover subject alternative name ... Request-CsCertificate -New -Type WebServicesExternal -Ca dc\\myca -AllSipDomain (step 13; step 12 for a single certificate)"
  },
  "roles": {
    "front-end-standard": {
)json";

constexpr std::string_view kFrontEndNames = R"json(      "names": {
        "Default": [
          {"name": "{pool_fqdn}", "rule": "pool"},
          {"name": "{server_fqdn}", "rule": "server"},
        ],
        "WebServicesInternal": [
          {"name": "{web_internal}", "rule": "web-services"},
          {"name": "{server_fqdn}", "rule": "server"},
          {"name": "{meet}", "rule": "simple-url"},
          {"name": "{dialin}", "rule": "simple-url"},
          {"name": "{admin}", "rule": "simple-url"},
          {"name": "lyncdiscoverinternal.{autodiscover_domains}", "rule": "autodiscover-internal"},
        ],
        "WebServicesExternal": [
          {"name": "{web_external}", "rule": "web-services"},
          {"name": "{meet}", "rule": "simple-url"},
          {"name": "{dialin}", "rule": "simple-url"},
          {"name": "lyncdiscover.{autodiscover_domains}", "rule": "autodiscover-external"},
        ],
      },
)json";

constexpr std::string_view kEnterprise = R"json(    },
    // A member of an Enterprise Edition pool: the same names; pool_fqdn is
    // required and differs from server_fqdn.
    "front-end-enterprise": {
)json";

constexpr std::string_view kDirector = R"json(    },
    // A Director (or a member of a Director pool): it answers the same
    // Autodiscover and web requests first, so it carries the same names.
    "director": {
)json";

constexpr std::string_view kTail = R"json(    },
    // The reverse proxy publishes the pools' external web services to the
    // Internet: one certificate with the external names only.
    "reverse-proxy": {
      "names": {
        "ReverseProxy": [
          {"name": "{web_external}", "rule": "web-services"},
          {"name": "{meet}", "rule": "simple-url"},
          {"name": "{dialin}", "rule": "simple-url"},
          {"name": "lyncdiscover.{autodiscover_domains}", "rule": "autodiscover-external"},
        ],
      },
    },
  },
}
)json";

const std::string& presets_string() {
  static const std::string text = [] {
    std::string t;
    for (auto part : {kHead, kFrontEndNames, kEnterprise, kFrontEndNames, kDirector, kFrontEndNames, kTail}) t += part;
    return t;
  }();
  return text;
}

Result<Presets> parse_presets() {
  const std::string file = "<built-in presets>";
  const std::string& text = presets_string();
  auto doc = parse_json(text, file);
  if (!doc) return std::unexpected(doc.error());
  Reader r(text, file);
  auto top = r.object(*doc, "", {"rules", "roles"});
  if (!top) return std::unexpected(top.error());
  Presets out;
  for (const auto& rule : (*top)->at("rules").as_object())
    out.rules.emplace(rule.key(), std::string(rule.value().as_string()));
  for (const auto& role : (*top)->at("roles").as_object()) {
    std::string path = member_path(member_path("roles", role.key()), "names");
    auto purposes = read_purpose_templates(r, role.value().as_object().at("names"), path, false);
    if (!purposes) return std::unexpected(purposes.error());
    out.roles.emplace(role.key(), Preset{std::string(role.key()), std::move(*purposes)});
  }
  return out;
}

}  // namespace

std::string_view presets_text() { return presets_string(); }

Result<const Presets*> presets() {
  static const Result<Presets> parsed = [] {
    try {
      return parse_presets();
    } catch (const std::exception& e) {  // at() / as_*() on a malformed preset: a bug
      return Result<Presets>(fail(ErrorKind::Policy, std::string("built-in presets: ") + e.what()));
    }
  }();
  if (!parsed) return std::unexpected(parsed.error());
  return &*parsed;
}

}  // namespace certagent::policy
