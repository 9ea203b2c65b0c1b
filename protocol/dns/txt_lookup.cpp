#include "protocol/dns/txt_lookup.hpp"

#include <sys/time.h>

#include <memory>

#include <ldns/ldns.h>

#include "common/host_port.hpp"
#include "protocol/dns/ldns_util.hpp"

namespace certagent::protocol {
namespace {

using namespace ldns_util;

Result<ResolverPtr> make_resolver(const TxtLookupOptions& options) {
  ldns_resolver* raw = nullptr;
  if (!options.resolver) {
    if (auto s = ldns_resolver_new_frm_file(&raw, nullptr); s != LDNS_STATUS_OK)
      return std::unexpected(ldns_error("reading the system's resolvers (/etc/resolv.conf)", s));
    return ResolverPtr(raw);
  }
  const std::string what = "the DNS resolver \"" + *options.resolver + "\"";
  auto address = parse_host_port(*options.resolver);
  if (!address || address->host.empty() || address->port == 0)
    return fail(ErrorKind::Invalid, what + " is not HOST:PORT");
  const bool v6 = address->host.find(':') != std::string::npos;
  RdfPtr ns(ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, address->host.c_str()));
  if (!ns) return fail(ErrorKind::Invalid, what + ": the host must be an IP address");
  ResolverPtr res(ldns_resolver_new());
  if (!res) return fail(ErrorKind::Transport, "ldns could not allocate a resolver");
  if (auto s = ldns_resolver_push_nameserver(res.get(), ns.get()); s != LDNS_STATUS_OK)
    return std::unexpected(ldns_error("adding " + what, s));
  ldns_resolver_set_port(res.get(), address->port);
  return res;
}

}  // namespace

Result<std::vector<std::string>> lookup_txt(std::string_view name, const TxtLookupOptions& options) {
  const std::string doing = "looking up the TXT records of " + std::string(name);
  auto res = make_resolver(options);
  if (!res) return std::unexpected(res.error().context(doing));
  ldns_resolver_set_timeout(res->get(), timeval{options.timeout_seconds, 0});
  ldns_resolver_set_retry(res->get(), 2);
  RdfPtr qname(ldns_dname_new_frm_str(std::string(name).c_str()));
  if (!qname) return fail(ErrorKind::Invalid, doing + ": not a DNS name");
  ldns_pkt* raw = nullptr;
  if (auto s = ldns_resolver_send(&raw, res->get(), qname.get(), LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, LDNS_RD);
      s != LDNS_STATUS_OK)
    return std::unexpected(ldns_error(doing, s));
  PktPtr pkt(raw);
  const auto rcode = ldns_pkt_get_rcode(pkt.get());
  if (rcode == LDNS_RCODE_NXDOMAIN) return std::vector<std::string>{};
  if (rcode != LDNS_RCODE_NOERROR) {
    return fail(ErrorKind::Transport, doing + ": the resolver answered " + rcode_name(static_cast<int>(rcode)), true);
  }
  return txt_values(pkt.get());
}

}  // namespace certagent::protocol
