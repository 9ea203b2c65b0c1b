#pragma once
// ldns objects owned by unique_ptrs, and the few helpers protocol/dns shares (internal).
#include <memory>
#include <string>
#include <vector>

#include <ldns/ldns.h>

#include "common/error.hpp"

namespace certagent::protocol::ldns_util {

struct ResolverFree { void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); } };
struct PktFree { void operator()(ldns_pkt* p) const { ldns_pkt_free(p); } };
struct RdfFree { void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); } };
struct RrFree { void operator()(ldns_rr* r) const { ldns_rr_free(r); } };
struct RrListFree { void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); } };
using ResolverPtr = std::unique_ptr<ldns_resolver, ResolverFree>;
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrPtr = std::unique_ptr<ldns_rr, RrFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;

inline Error ldns_error(const std::string& doing, ldns_status s) {
  return Error(ErrorKind::Transport, doing + ": " + ldns_get_errorstr_by_id(s), true);
}

// "NOERROR", "NOTAUTH", ... for an rcode.
inline std::string rcode_name(int rcode) {
  const ldns_lookup_table* t = ldns_lookup_by_id(ldns_rcodes, rcode);
  return t ? t->name : "rcode " + std::to_string(rcode);
}

// A name as ldns prints an rdf, without the trailing dot.
inline std::string dname_text(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "";
  free(s);  // NOLINT: ldns allocates with malloc
  if (out.size() > 1 && out.back() == '.') out.pop_back();
  return out;
}

// The TXT values of the answer section, each record's character-strings joined.
inline std::vector<std::string> txt_values(ldns_pkt* pkt) {
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

}  // namespace certagent::protocol::ldns_util
