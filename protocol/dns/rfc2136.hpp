#pragma once
// Dynamic DNS update (RFC 2136) of dns-01 TXT records, signed with TSIG (RFC 8945), and the
// authoritative look-ups around it: the zone of a name (its SOA), the zone's name servers
// (its NS set and their addresses), and what one server itself serves (no recursion, no
// cache). All packets are built, signed and parsed by ldns. Never waits: one call, one exchange.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/dns/tsig_key.hpp"

struct ldns_struct_pkt;

namespace certagent::protocol {

struct DnsServer {
  std::string host;         // an IP address
  std::uint16_t port = 53;
  [[nodiscard]] std::string str() const;  // "192.0.2.1:53", "[2001:db8::1]:53"
};

// "HOST:PORT" or "[IPv6]:PORT" with an IP address; Invalid otherwise.
[[nodiscard]] Result<DnsServer> parse_dns_server(std::string_view text);

struct TxtRecord {
  std::string name;   // "_acme-challenge.www.example.com", no trailing dot
  std::string value;  // the TXT string (dns-01: base64url, 43 characters)
  friend bool operator==(const TxtRecord&, const TxtRecord&) = default;
  friend auto operator<=>(const TxtRecord&, const TxtRecord&) = default;
};

struct PacketFree { void operator()(ldns_struct_pkt* p) const; };
using DnsPacket = std::unique_ptr<ldns_struct_pkt, PacketFree>;

enum class UpdateOp { Add, Delete };
// The UPDATE message for `zone`: every record added with `ttl` (§2.5.1), or deleted by its exact
// value (class NONE, §2.5.4), in one message. Unsigned; send_update signs it.
[[nodiscard]] Result<DnsPacket> build_txt_update(std::string_view zone, const std::vector<TxtRecord>& records,
                                                 UpdateOp op, std::uint32_t ttl = 60);

struct DnsExchangeOptions {
  std::chrono::seconds timeout{5};  // per try
  int tries = 2;
};

// Signs `update` with `key` and sends it to `server` (TCP); checks that the answer is signed
// with the same key and its rcode is NOERROR. Errors name the server, the zone, the key name
// and the rcode the server answered (e.g. NOTAUTH with TSIG error BADSIG); never the secret.
[[nodiscard]] Result<void> send_update(const DnsServer& server, const TsigKey& key, std::string_view zone,
                                       DnsPacket update, const DnsExchangeOptions& options = {});

// The zone `name` is in, per `server`'s SOA answer (the SOA's owner in the answer or the
// authority section). Transport when the server does not answer; Invalid when it is not
// authoritative for the name (then the policy should name the zone).
[[nodiscard]] Result<std::string> find_zone(std::string_view name, const DnsServer& server,
                                            const DnsExchangeOptions& options = {});

// Where a TXT record at `name` really goes: when `server` answers authoritatively that `name` is
// a CNAME (the usual way to keep update rights out of a production zone), its target, followed
// up to 8 times; else `name` itself.
[[nodiscard]] Result<std::string> follow_cname(std::string_view name, const DnsServer& server,
                                               const DnsExchangeOptions& options = {});

struct NameServer {
  std::string name;                  // from the zone's NS set
  std::vector<std::string> addresses;  // its A and AAAA addresses
};
// The zone's NS set as `server` serves it, each with its addresses (the answer's additional
// section, else A/AAAA queries to `server`, else the system's resolvers).
[[nodiscard]] Result<std::vector<NameServer>> zone_name_servers(std::string_view zone, const DnsServer& server,
                                                                const DnsExchangeOptions& options = {});

// The TXT values `server` itself serves at `name` (no recursion asked); an error unless it
// answers authoritatively (NOERROR or NXDOMAIN with the AA bit).
[[nodiscard]] Result<std::vector<std::string>> authoritative_txt(std::string_view name, const DnsServer& server,
                                                                 const DnsExchangeOptions& options = {});

}  // namespace certagent::protocol
