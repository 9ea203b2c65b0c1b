#include "protocol/dns/txt_lookup.hpp"

#include <sys/time.h>

#include <memory>

#include <ldns/ldns.h>

#include "common/host_port.hpp"

namespace certagent::protocol {
namespace {

struct ResolverFree { void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); } };
struct PktFree { void operator()(ldns_pkt* p) const { ldns_pkt_free(p); } };
struct RdfFree { void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); } };
struct RrListFree { void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); } };
using ResolverPtr = std::unique_ptr<ldns_resolver, ResolverFree>;
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;

Error ldns_error(const std::string& doing, ldns_status s) {
  return Error(ErrorKind::Transport, doing + ": " + ldns_get_errorstr_by_id(s), true);
}

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

// The TXT values of the answer section, each record's character-strings joined.
std::vector<std::string> txt_values(ldns_pkt* pkt) {
  std::vector<std::string> out;
  RrListPtr rrs(ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_TXT, LDNS_SECTION_ANSWER));
  if (!rrs) return out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(rrs.get()); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(rrs.get(), i);
    std::string value;
    for (size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
      const ldns_rdf* rd = ldns_rr_rdf(rr, j);
      const auto* data = ldns_rdf_data(rd);
      const size_t size = ldns_rdf_size(rd);
      if (size == 0 || data[0] + 1u > size) continue;  // a character-string: length octet, then data
      value.append(reinterpret_cast<const char*>(data + 1), data[0]);
    }
    out.push_back(std::move(value));
  }
  return out;
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
    const ldns_lookup_table* t = ldns_lookup_by_id(ldns_rcodes, static_cast<int>(rcode));
    return fail(ErrorKind::Transport, doing + ": the resolver answered " + (t ? t->name : "an error"), true);
  }
  return txt_values(pkt.get());
}

}  // namespace certagent::protocol
