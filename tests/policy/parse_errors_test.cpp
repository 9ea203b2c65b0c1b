// Every policy error is "FILE:LINE:COLUMN: PATH: message" and points at the
// offending value (or key). Each case names the text it expects the error at.
#include <gtest/gtest.h>

#include "policy/parse.hpp"
#include "test_support.hpp"

namespace certagent::policy {
namespace {

using test::location_of;
using test::lync_policy;

struct ErrorCase {
  const char* name;
  std::string text;
  std::string at;    // the error points at the first occurrence of this text
  std::string path;  // and names this policy path
  std::string says;  // and says this
};

const std::string kServer = R"("server_fqdn": "se01.contoso.net")";
const std::string kLong = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                          std::string(63, 'd');  // 255 octets

std::string custom_policy(std::string_view role) {
  return "{\n\"ca\": {\"directory\": \"https://ca.example.org/dir\"},\n\"roles\": [\n" + std::string(role) + "\n]\n}\n";
}

std::vector<ErrorCase> cases() {
  return {
      {"no SIP domain", lync_policy(kServer, ""), "{", "(top level)", "missing required key 'sip_domains'"},
      {"empty SIP domain list", lync_policy(kServer, R"("sip_domains": [],)"), "[]", "sip_domains", "is empty"},
      {"SIP domains not an array", lync_policy(kServer, R"("sip_domains": "contoso.com",)"), "\"contoso.com\"",
       "sip_domains", "expected an array"},
      {"Unicode IDN names its A-label", lync_policy(kServer, R"("sip_domains": ["contoso.com", "bücher.example"],)"),
       "\"bücher", "sip_domains[1]", "A-label form (xn--...); here: 'xn--bcher-kva.example'"},
      {"an invalid A-label", lync_policy(kServer, R"("sip_domains": ["xn--bcher-2pa.example"],)"),
       "\"xn--", "sip_domains[0]", "has an xn-- label that is not a valid A-label"},
      {"upper-case IDN names the mapped A-label", lync_policy(kServer, R"("sip_domains": ["BÜCHER.example"],)"),
       "\"BÜCHER", "sip_domains[0]", "here: 'xn--bcher-kva.example' (libidn2: IDNA2008, UTS #46 non-transitional)"},
      {"invalid wildcard", lync_policy(kServer + R"(, "simple_urls": {"meet": ["meet.contoso.com", "meet.*.contoso.com"]})"),
       "\"meet.*", "roles[0].simple_urls.meet[1]", "wildcard may only be the whole left-most label"},
      {"name over 253 octets", lync_policy(R"("server_fqdn": ")" + kLong + "\""), "\"aaa", "roles[0].server_fqdn",
       "at most 253"},
      {"expanded name over 253 octets blames the SIP domain",
       lync_policy(kServer, R"("sip_domains": ["contoso.com", ")" + kLong.substr(0, 240) + "\"],"), "\"aaa",
       "sip_domains[1]", "at most 253"},
      {"unknown key with a suggestion", lync_policy(kServer + R"(, "pool_fdqn": "pool.contoso.net")"), "\"pool_fdqn\"",
       "roles[0].pool_fdqn", "unknown key 'pool_fdqn' — did you mean 'pool_fqdn'?"},
      {"unknown top-level key", lync_policy(kServer, R"("sip_domains": ["contoso.com"], "rolse": [],)"), "\"rolse\"",
       "rolse", "did you mean 'roles'?"},
      {"wrong type", lync_policy(R"("server_fqdn": 42)"), "42", "roles[0].server_fqdn", "expected a string, found a number"},
      {"missing required field", lync_policy(R"("layout": "shared")"), "{\"role\"", "roles[0]",
       "missing required key 'server_fqdn'"},
      {"missing ca", "{\n \"roles\": []\n}", "{", "(top level)", "missing required key 'ca'"},
      {"plain http CA", R"({"ca": {"directory": "http://ca.example/d"}, "roles": []})", "\"http:", "ca.directory",
       "not an https:// URL"},
      {"EAB without MAC key file", R"({"ca": {"directory": "https://ca.example/d", "eab": {"key_id": "k"}}})",
       "{\"key_id\"", "ca.eab", "missing required key 'mac_key_file'"},
      {"contact without mailto", R"({"ca": {"directory": "https://c.example/d", "contacts": ["pki@contoso.com"]}})",
       "\"pki@", "ca.contacts[0]", "mailto:pki@contoso.com"},
      {"concurrency zero", R"({"ca": {"directory": "https://c.example/d", "concurrency": 0}})", "0}", "ca.concurrency",
       "0 orders at once is out of range; write a whole number of orders at once from 1 to 32"},
      {"concurrency too high", R"({"ca": {"directory": "https://c.example/d", "concurrency": 1000}})", "1000",
       "ca.concurrency", "1000 orders at once is out of range"},
      {"concurrency as a string", R"({"ca": {"directory": "https://c.example/d", "concurrency": "8"}})", "\"8\"",
       "ca.concurrency", "a string is not a number of orders; write a whole number"},
      {"concurrency not whole", R"({"ca": {"directory": "https://c.example/d", "concurrency": 2.5}})", "2.5",
       "ca.concurrency", "a number is not a number of orders"},
      {"unknown key type", lync_policy(kServer + R"(, "key": "rsa-1024")"), "\"rsa-1024\"", "roles[0].key",
       "is not a key type"},
      {"bad renewal", lync_policy(kServer, R"("sip_domains": ["contoso.com"], "renewal": "100%",)"), "\"100%\"",
       "renewal", "not a renewal setting"},
      {"rfc2136 server by name",
       lync_policy(kServer, R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01", "rfc2136": {"server": "ns1.contoso.com:53", "key_file": "/etc/k"}},)"),
       "\"ns1.contoso.com:53\"", "challenge.rfc2136.server", "with the primary's IP address"},
      {"rfc2136 without key_file",
       lync_policy(kServer, R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01", "rfc2136": {"server": "192.0.2.53:53"}},)"),
       "{\"server\"", "challenge.rfc2136", "missing required key 'key_file'"},
      {"rfc2136 relative key_file",
       lync_policy(kServer, R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01", "rfc2136": {"server": "192.0.2.53:53", "key_file": "k.key"}},)"),
       "\"k.key\"", "challenge.rfc2136.key_file", "absolute"},
      {"rfc2136 and a hook",
       lync_policy(kServer, R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01", "hook": "/h", "rfc2136": {"server": "192.0.2.53:53", "key_file": "/k"}},)"),
       "\"rfc2136\"", "challenge.rfc2136", "not both"},
      {"rfc2136 propagation_timeout zero",
       lync_policy(kServer, R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01", "rfc2136": {"server": "192.0.2.53:53", "key_file": "/k", "propagation_timeout": "0s"}},)"),
       "\"0s\"", "challenge.rfc2136.propagation_timeout", "must be from 1s to 3600s"},
      {"rfc2136 on http-01",
       lync_policy(kServer, R"("sip_domains": ["contoso.com"], "challenge": {"type": "http-01", "rfc2136": {}},)"),
       "\"rfc2136\"", "challenge.rfc2136", "'rfc2136' does not apply to http-01"},
      {"dns-01 without hook", lync_policy(kServer, R"("sip_domains": ["contoso.com"], "challenge": {"type": "dns-01"},)"),
       "{\"type\": \"dns-01\"}", "challenge", "missing required key 'hook'"},
      {"http-01 with a hook", lync_policy(kServer, R"("sip_domains": ["a.com"], "challenge": {"hook": "/x"},)"),
       "\"hook\"", "challenge.hook", "does not apply to http-01"},
      {"dns-persist-01 with a hook",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "challenge": {"type": "dns-persist-01", "hook": "/x"},)"),
       "\"hook\"", "challenge.hook", "'hook' does not apply to dns-persist-01"},
      {"http-01 with a resolver", lync_policy(kServer, R"("sip_domains": ["a.com"], "challenge": {"resolver": "10.0.0.1:53"},)"),
       "\"resolver\"", "challenge.resolver", "does not apply to http-01"},
      {"dns-persist-01 resolver without host",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "challenge": {"type": "dns-persist-01", "resolver": ":53"},)"),
       "\":53\"", "challenge.resolver", "is not a DNS resolver address"},
      {"dns-persist-01 wildcard issuer",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "challenge": {"type": "dns-persist-01", "issuer_domain": "*.ca.example"},)"),
       "\"*.ca", "challenge.issuer_domain", "is not an issuer domain name"},
      {"bad listen port", lync_policy(kServer, R"("sip_domains": ["a.com"], "challenge": {"listen": ":99999"},)"),
       "\":99999\"", "challenge.listen", "not a listen address"},
      {"unknown role kind", lync_policy(kServer).replace(lync_policy(kServer).find("front-end-standard"), 18, "edge"),
       "\"edge\"", "roles[0].role", "'edge' is not one of"},
      {"explicit autodiscover with the prefix", lync_policy(kServer + R"(, "autodiscover": ["lyncdiscover.contoso.com"])"),
       "\"lyncdiscover.", "roles[0].autodiscover[0]", "list the domain 'contoso.com' itself"},
      {"autodiscover word", lync_policy(kServer + R"(, "autodiscover": "all")"), "\"all\"", "roles[0].autodiscover",
       "expected \"all-sip-domains\" or an array"},
      {"override of a purpose the role lacks", lync_policy(kServer + R"(, "names": {"Defualt": ["x.contoso.com"]})"),
       "\"Defualt\"", "roles[0].names.Defualt", "not a purpose of this role"},
      {"unknown variable in a template", lync_policy(kServer + R"(, "extra_names": {"Default": ["sip.{sip_domain}"]})"),
       "\"sip.{", "roles[0].extra_names.Default[0]", "unknown variable '{sip_domain}'"},
      {"malformed template", lync_policy(kServer + R"(, "extra_names": {"Default": ["sip.{sip_domains"]})"),
       "\"sip.{", "roles[0].extra_names.Default[0]", "'{' without '}'"},
      {"purpose output for an unserved purpose",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"WebServiceExternal": {}},)"),
       "\"WebServiceExternal\"", "purposes.WebServiceExternal", "no role serves a purpose 'WebServiceExternal'"},
      {"world-readable key", lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"key_mode": "0644"}},)"),
       "\"0644\"", "purposes.Default.key_mode", "every user"},
      {"relative hook", lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"hooks": [{"argv": ["systemctl"]}]}},)"),
       "\"systemctl\"", "purposes.Default.hooks[0].argv[0]", "not an absolute path"},
      {"reload unit without its suffix",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"reload_units": ["nginx"]}},)"),
       "\"nginx\"", "purposes.Default.reload_units[0]", "write the whole name as systemctl shows it, e.g. \"nginx.service\""},
      {"reload units not an array",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"reload_units": "nginx.service"}},)"),
       "\"nginx.service\"", "purposes.Default.reload_units", "expected an array of unit names"},
      {"restart unit with a shell character",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"restart_units": ["a;b.service"]}},)"),
       "\"a;b", "purposes.Default.restart_units[0]", "is not a service unit name"},
      {"reload unit listed twice",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"reload_units": ["a.service", "a.service"]}},)"),
       "\"a.service\"]", "purposes.Default.reload_units[1]", "listed twice"},
      {"unit both reloaded and restarted",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"reload_units": ["a.service"], "restart_units": ["a.service"]}},)"),
       "\"a.service\"]}", "purposes.Default.restart_units[0]", "also in \"reload_units\""},
      {"same output file twice",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"cert": "/a", "key": "/a"}},)"),
       "\"/a\"}", "purposes.Default.key", "also written as purposes.Default.cert"},
      {"PKCS#12 without a password source",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"pkcs12": "/p/d.p12"}},)"),
       "\"pkcs12\"", "purposes.Default.pkcs12", "needs a password: name the file holding it"},
      {"PKCS#12 with a password file and an empty password",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"pkcs12": "/p/d.p12", )"
                            R"("pkcs12_password_file": "/p/pw", "pkcs12_empty_password": true}},)"),
       "\"pkcs12_empty_password\"", "purposes.Default.pkcs12_empty_password", "contradicts"},
      {"empty PKCS#12 password without a bundle",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "purposes": {"Default": {"pkcs12_empty_password": true}},)"),
       "\"pkcs12_empty_password\"", "purposes.Default.pkcs12_empty_password", "applies only with \"pkcs12\""},
      {"Enterprise pool named like its member",
       lync_policy(R"("server_fqdn": "fe01.contoso.net", "pool_fqdn": "FE01.contoso.net.")")
           .replace(lync_policy("").find("front-end-standard"), 18, "front-end-enterprise"),
       "\"FE01", "roles[0].pool_fqdn", "equals server_fqdn"},
      {"variable shadowing a Lync variable",
       lync_policy(kServer, R"("sip_domains": ["a.com"], "variables": {"pool_fqdn": "x.a.com"},)"), "\"pool_fqdn\"",
       "variables.pool_fqdn", "set by the Lync roles"},
      {"custom role without names", custom_policy(R"({"role": "custom", "id": "web"})"), "{\"role\"", "roles[0]",
       "missing required key 'names'"},
      {"custom role without id", custom_policy(R"({"role": "custom", "names": {"https": ["a.example"]}})"), "{\"role\"",
       "roles[0]", "missing required key 'id'"},
      {"two roles, one purpose",
       custom_policy(R"({"role": "custom", "id": "a", "names": {"https": ["a.example"]}},
{"role": "custom", "id": "b", "names": {"https": ["b.example"]}})"),
       "{\"role\": \"custom\", \"id\": \"b\"", "roles[1]", "purpose https is already served by role 'a'"},
      {"two roles, one id",
       custom_policy(R"({"role": "custom", "id": "a", "names": {"x": ["a.example"]}},
{"role": "custom", "id": "a", "names": {"y": ["b.example"]}})"),
       "\"a\", \"names\": {\"y\"", "roles[1].id", "two roles have the id 'a'"},
      {"purpose without names", custom_policy(R"({"role": "custom", "id": "a", "names": {"x": ["{sip_domains}"]}})"),
       "{\"role\"", "roles[0]", "purpose x gets no names"},
      {"separate purpose without names", lync_policy(kServer + R"(, "layout": "separate", "autodiscover": [])"),
       "{\"role\"", "roles[0]", "purpose WebServicesExternal gets no names"},
      {"duplicate key", lync_policy(kServer + R"(, "server_fqdn": "se02.contoso.net")"), "\"server_fqdn\": \"se02",
       "roles[0].server_fqdn", "duplicate key 'server_fqdn'"},
      {"syntax error", lync_policy(kServer + R"(, "layout" "shared")"), "\"shared\"", "", "',' or ':' is missing"},
  };
}

TEST(PolicyErrors, PointAtTheOffendingValueAndSayWhatIsWrong) {
  for (const auto& c : cases()) {
    auto p = parse_policy(c.text, "p.json");
    ASSERT_FALSE(p) << c.name;
    const std::string& msg = p.error().message;
    EXPECT_EQ(p.error().kind, ErrorKind::Policy) << c.name;
    const std::string want = location_of("p.json", c.text, c.at) + (c.path.empty() ? "" : c.path + ": ");
    EXPECT_EQ(msg.rfind(want, 0), 0u) << c.name << "\n  want prefix: " << want << "\n  got: " << msg;
    EXPECT_NE(msg.find(c.says), std::string::npos) << c.name << "\n  want: " << c.says << "\n  got: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name << ": one line";
  }
}

}  // namespace
}  // namespace certagent::policy
