#include "protocol/dns/rfc2136.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "common/escape.hpp"
#include "common/host_port.hpp"
#include "protocol/dns/ldns_util.hpp"

namespace certagent::protocol {

using namespace ldns_util;

void PacketFree::operator()(ldns_struct_pkt* p) const { ldns_pkt_free(p); }

namespace {

bool is_v6(const std::string& host) { return host.find(':') != std::string::npos; }

Result<ResolverPtr> resolver_for(const DnsServer& server, const DnsExchangeOptions& options) {
  RdfPtr ns(ldns_rdf_new_frm_str(is_v6(server.host) ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, server.host.c_str()));
  if (!ns) return fail(ErrorKind::Invalid, "the DNS server " + server.str() + " is not an IP address");
  ResolverPtr res(ldns_resolver_new());
  if (!res) return fail(ErrorKind::Transport, "ldns could not allocate a resolver");
  if (auto s = ldns_resolver_push_nameserver(res.get(), ns.get()); s != LDNS_STATUS_OK)
    return std::unexpected(ldns_error("adding the DNS server " + server.str(), s));
  ldns_resolver_set_port(res.get(), server.port);
  ldns_resolver_set_timeout(res.get(), timeval{options.timeout.count(), 0});
  ldns_resolver_set_retry(res.get(), static_cast<uint8_t>(options.tries));
  ldns_resolver_set_recursive(res.get(), false);
  return res;
}

Result<RdfPtr> dname(std::string_view name) {
  RdfPtr rdf(ldns_dname_new_frm_str(std::string(name).c_str()));
  if (!rdf) return fail(ErrorKind::Invalid, "'" + escape_control(name, 255) + "' is not a DNS name");
  return rdf;
}

std::string type_name(ldns_rr_type type) {
  char* s = ldns_rr_type2str(type);
  std::string out = s ? s : "?";
  free(s);  // NOLINT: ldns allocates with malloc
  return out;
}

// One question to one server, recursion not desired: what the server itself holds.
Result<PktPtr> ask(const DnsServer& server, std::string_view name, ldns_rr_type type, const DnsExchangeOptions& options) {
  const std::string doing =
      fmt::format("asking {} for the {} records of {}", server.str(), type_name(type), escape_control(name, 255));
  auto res = resolver_for(server, options);
  if (!res) return std::unexpected(res.error());
  auto qname = dname(name);
  if (!qname) return std::unexpected(qname.error());
  ldns_pkt* raw = nullptr;
  if (auto s = ldns_resolver_send(&raw, res->get(), qname->get(), type, LDNS_RR_CLASS_IN, 0); s != LDNS_STATUS_OK)
    return std::unexpected(ldns_error(doing, s));
  return PktPtr(raw);
}

Result<RrPtr> txt_rr(const TxtRecord& r, std::uint32_t ttl) {
  auto owner = dname(r.name);
  if (!owner) return std::unexpected(owner.error());
  RrPtr rr(ldns_rr_new_frm_type(LDNS_RR_TYPE_TXT));
  ldns_rdf* txt = nullptr;
  if (r.value.size() > 255 || ldns_str2rdf_str(&txt, r.value.c_str()) != LDNS_STATUS_OK || txt == nullptr)
    return fail(ErrorKind::Invalid, "the TXT value for " + r.name + " is not one character-string");
  ldns_rr_set_owner(rr.get(), owner->release());
  ldns_rr_push_rdf(rr.get(), txt);
  ldns_rr_set_ttl(rr.get(), ttl);
  ldns_rr_set_class(rr.get(), LDNS_RR_CLASS_IN);
  return rr;
}

// The TSIG error field of a response's TSIG record (RFC 8945 §4.2), or 0.
int tsig_error(ldns_pkt* pkt) {
  const ldns_rr* tsig = ldns_pkt_tsig(pkt);
  if (tsig == nullptr || ldns_rr_rd_count(tsig) < 6) return 0;
  return ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
}

std::string tsig_error_name(int e) {
  switch (e) {
    case 16: return "BADSIG";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 22: return "BADTRUNC";
    default: return "TSIG error " + std::to_string(e);
  }
}

// The signed UPDATE over TCP (no retransmitted UPDATE applied twice), and the answer: parsed,
// its wire bytes (to verify its TSIG against) and the request's MAC.
struct Exchange {
  PktPtr answer;
  std::vector<uint8_t> wire;
  RdfPtr request_mac;
};

struct BufferFree { void operator()(ldns_buffer* b) const { ldns_buffer_free(b); } };

Result<Exchange> signed_exchange(const DnsServer& server, const TsigKey& key, ldns_pkt* update,
                                 const DnsExchangeOptions& options) {
  const std::string key_name = key.name + ".", algorithm = key.algorithm + ".";
  if (auto s = ldns_pkt_tsig_sign(update, key_name.c_str(), key.secret.c_str(), 300, algorithm.c_str(), nullptr);
      s != LDNS_STATUS_OK)
    return std::unexpected(ldns_error("signing with TSIG", s));
  const ldns_rr* tsig = ldns_pkt_tsig(update);
  if (tsig == nullptr || ldns_rr_rd_count(tsig) < 4) return fail(ErrorKind::Crypto, "ldns did not sign the UPDATE");
  RdfPtr mac(ldns_rdf_clone(ldns_rr_rdf(tsig, 3)));  // the answer is signed over it (RFC 8945 §5.3)
  std::unique_ptr<ldns_buffer, BufferFree> query(ldns_buffer_new(LDNS_MAX_PACKETLEN));
  if (auto s = ldns_pkt2buffer_wire(query.get(), update); s != LDNS_STATUS_OK)
    return std::unexpected(ldns_error("encoding the UPDATE", s));
  RdfPtr address(ldns_rdf_new_frm_str(is_v6(server.host) ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, server.host.c_str()));
  if (!address) return fail(ErrorKind::Invalid, "the DNS server " + server.str() + " is not an IP address");
  size_t size = 0;
  std::unique_ptr<sockaddr_storage, decltype(&free)> to(ldns_rdf2native_sockaddr_storage(address.get(), server.port, &size),
                                                        &free);
  if (!to) return fail(ErrorKind::Invalid, "the DNS server " + server.str() + " is not an IP address");
  uint8_t* reply = nullptr;
  size_t reply_size = 0;
  if (auto s = ldns_tcp_send(&reply, query.get(), to.get(), static_cast<socklen_t>(size),
                             timeval{options.timeout.count(), 0}, &reply_size);
      s != LDNS_STATUS_OK)
    return std::unexpected(ldns_error("sending the UPDATE", s));
  Exchange out;
  out.wire.assign(reply, reply + reply_size);
  free(reply);  // NOLINT: ldns allocates with malloc
  out.request_mac = std::move(mac);
  ldns_pkt* answer = nullptr;
  if (auto s = ldns_wire2pkt(&answer, out.wire.data(), out.wire.size()); s != LDNS_STATUS_OK)
    return fail(ErrorKind::Protocol, std::string("the answer is not a DNS message: ") + ldns_get_errorstr_by_id(s));
  out.answer.reset(answer);
  if (ldns_pkt_id(answer) != ldns_pkt_id(update)) return fail(ErrorKind::Protocol, "the answer's id is not the UPDATE's");
  return out;
}

}  // namespace

std::string DnsServer::str() const {
  return is_v6(host) ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

Result<DnsServer> parse_dns_server(std::string_view text) {
  auto hp = parse_host_port(text);
  if (!hp || hp->host.empty() || hp->port == 0)
    return fail(ErrorKind::Invalid, "'" + escape_control(text, 100) + "' is not a DNS server address; write "
                                    "\"IP:PORT\" or \"[IPv6]:PORT\", e.g. \"192.0.2.53:53\"");
  DnsServer s{hp->host, hp->port};
  RdfPtr check(ldns_rdf_new_frm_str(is_v6(s.host) ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, s.host.c_str()));
  if (!check)
    return fail(ErrorKind::Invalid, "'" + escape_control(text, 100) + "': the DNS server must be given by its IP address");
  return s;
}

Result<DnsPacket> build_txt_update(std::string_view zone, const std::vector<TxtRecord>& records, UpdateOp op,
                                   std::uint32_t ttl) {
  RrListPtr updates(ldns_rr_list_new());
  for (const auto& r : records) {
    auto rr = txt_rr(r, op == UpdateOp::Add ? ttl : 0);
    if (!rr) return std::unexpected(rr.error());
    if (op == UpdateOp::Delete) ldns_rr_set_class(rr->get(), LDNS_RR_CLASS_NONE);  // §2.5.4: this RR only
    ldns_rr_list_push_rr(updates.get(), rr->release());
  }
  auto zone_rdf = dname(zone);
  if (!zone_rdf) return std::unexpected(zone_rdf.error());
  // ldns_update_pkt_new takes the zone name and copies the lists.
  ldns_pkt* pkt = ldns_update_pkt_new(zone_rdf->release(), LDNS_RR_CLASS_IN, nullptr, updates.get(), nullptr);
  if (pkt == nullptr) return fail(ErrorKind::Invalid, "ldns could not build an UPDATE for the zone " + std::string(zone));
  ldns_pkt_set_rd(pkt, false);
  ldns_pkt_set_random_id(pkt);
  return DnsPacket(pkt);
}

Result<void> send_update(const DnsServer& server, const TsigKey& key, std::string_view zone, DnsPacket update,
                         const DnsExchangeOptions& options) {
  const std::string doing = fmt::format("updating the zone {} at {} with the TSIG key {}", zone, server.str(), key.name);
  auto exchange = signed_exchange(server, key, update.get(), options);
  if (!exchange) return std::unexpected(exchange.error().context(doing));
  auto& [answer, wire, mac] = *exchange;
  const auto rcode = ldns_pkt_get_rcode(answer.get());
  if (rcode != LDNS_RCODE_NOERROR) {
    std::string why = rcode_name(rcode);
    if (int e = tsig_error(answer.get()); e != 0) why += " with " + tsig_error_name(e);
    const bool auth = rcode == LDNS_RCODE_NOTAUTH || rcode == LDNS_RCODE_REFUSED;
    return fail(auth ? ErrorKind::Unauthorized : ErrorKind::Rejected,
                doing + ": the server answered " + why +
                    (auth ? " (are the key's name, algorithm and secret the server's, and does its update-policy "
                            "grant this key TXT records at these names?)"
                          : ""));
  }
  const std::string key_name = key.name + ".";
  if (!ldns_pkt_tsig_verify(answer.get(), wire.data(), wire.size(), key_name.c_str(), key.secret.c_str(), mac.get()))
    return fail(ErrorKind::Unauthorized, doing + ": the server's NOERROR answer is not signed with the key");
  return ok();
}

Result<std::string> find_zone(std::string_view name, const DnsServer& server, const DnsExchangeOptions& options) {
  const std::string doing = fmt::format("finding the zone of {} (SOA) at {}", escape_control(name, 255), server.str());
  auto pkt = ask(server, name, LDNS_RR_TYPE_SOA, options);
  if (!pkt) return std::unexpected(pkt.error().context(doing));
  const auto rcode = ldns_pkt_get_rcode(pkt->get());
  if ((rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN) && ldns_pkt_aa(pkt->get())) {
    for (auto section : {LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY}) {
      RrListPtr soa(ldns_pkt_rr_list_by_type(pkt->get(), LDNS_RR_TYPE_SOA, section));
      if (soa && ldns_rr_list_rr_count(soa.get()) > 0) return dname_text(ldns_rr_owner(ldns_rr_list_rr(soa.get(), 0)));
    }
  }
  return fail(ErrorKind::Invalid, doing + ": the server answered " + rcode_name(rcode) +
                                      (ldns_pkt_aa(pkt->get()) ? "" : " without authority") +
                                      " and no SOA; it is not a primary for this name — name the zone in the policy "
                                      "(\"zone\") or the server that holds it");
}

Result<std::string> follow_cname(std::string_view name, const DnsServer& server, const DnsExchangeOptions& options) {
  std::string current(name);
  for (int hop = 0; hop < 8; ++hop) {
    auto pkt = ask(server, current, LDNS_RR_TYPE_CNAME, options);
    if (!pkt) return std::unexpected(pkt.error().context("looking for a CNAME at " + current));
    if (!ldns_pkt_aa(pkt->get()) || ldns_pkt_get_rcode(pkt->get()) != LDNS_RCODE_NOERROR) return current;
    RrListPtr cname(ldns_pkt_rr_list_by_type(pkt->get(), LDNS_RR_TYPE_CNAME, LDNS_SECTION_ANSWER));
    if (!cname || ldns_rr_list_rr_count(cname.get()) == 0) return current;
    std::string target = dname_text(ldns_rr_rdf(ldns_rr_list_rr(cname.get(), 0), 0));
    for (auto& c : target) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    current = std::move(target);
  }
  return fail(ErrorKind::Invalid, fmt::format("{} is a chain of more than 8 CNAMEs", escape_control(name, 255)));
}

Result<std::vector<NameServer>> zone_name_servers(std::string_view zone, const DnsServer& server,
                                                  const DnsExchangeOptions& options) {
  const std::string doing = fmt::format("reading the NS set of {} at {}", zone, server.str());
  auto pkt = ask(server, zone, LDNS_RR_TYPE_NS, options);
  if (!pkt) return std::unexpected(pkt.error().context(doing));
  RrListPtr ns(ldns_pkt_rr_list_by_type(pkt->get(), LDNS_RR_TYPE_NS, LDNS_SECTION_ANSWER));
  if (!ns || ldns_rr_list_rr_count(ns.get()) == 0)
    return fail(ErrorKind::Invalid, doing + ": the server answered " + rcode_name(ldns_pkt_get_rcode(pkt->get())) +
                                        " with no NS records");
  std::vector<NameServer> out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(ns.get()); ++i) {
    NameServer n{dname_text(ldns_rr_rdf(ldns_rr_list_rr(ns.get(), i), 0)), {}};
    for (auto type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA}) {
      auto addr = ask(server, n.name, type, options);  // the primary holds in-zone names' addresses
      if (!addr) return std::unexpected(addr.error().context(doing));
      RrListPtr rrs(ldns_pkt_rr_list_by_type(addr->get(), type, LDNS_SECTION_ANSWER));
      for (size_t j = 0; rrs && j < ldns_rr_list_rr_count(rrs.get()); ++j)
        n.addresses.push_back(dname_text(ldns_rr_rdf(ldns_rr_list_rr(rrs.get(), j), 0)));
    }
    if (n.addresses.empty()) {  // out of zone: the system's resolvers
      ldns_resolver* sys = nullptr;
      if (ldns_resolver_new_frm_file(&sys, nullptr) == LDNS_STATUS_OK) {
        ResolverPtr res(sys);
        auto name_rdf = dname(n.name);
        if (!name_rdf) return std::unexpected(name_rdf.error());
        RrListPtr rrs(ldns_get_rr_list_addr_by_name(res.get(), name_rdf->get(), LDNS_RR_CLASS_IN, LDNS_RD));
        for (size_t j = 0; rrs && j < ldns_rr_list_rr_count(rrs.get()); ++j)
          n.addresses.push_back(dname_text(ldns_rr_rdf(ldns_rr_list_rr(rrs.get(), j), 0)));
      }
    }
    if (n.addresses.empty()) return fail(ErrorKind::Transport, doing + ": no address for the name server " + n.name, true);
    out.push_back(std::move(n));
  }
  return out;
}

Result<std::vector<std::string>> authoritative_txt(std::string_view name, const DnsServer& server,
                                                   const DnsExchangeOptions& options) {
  auto pkt = ask(server, name, LDNS_RR_TYPE_TXT, options);
  if (!pkt) return std::unexpected(pkt.error());
  const auto rcode = ldns_pkt_get_rcode(pkt->get());
  if (!ldns_pkt_aa(pkt->get()) || (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN))
    return fail(ErrorKind::Transport, fmt::format("{} answered {}{} for the TXT records of {}", server.str(),
                                                  rcode_name(rcode), ldns_pkt_aa(pkt->get()) ? "" : " without authority",
                                                  escape_control(name, 255)), true);
  return txt_values(pkt->get());
}

}  // namespace certagent::protocol
