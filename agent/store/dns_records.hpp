#pragma once
// dns-01 TXT records certagent added to a zone (RFC 2136) and has not deleted yet,
// <state>/dns01-records (0600): written whole before each add and after each delete, so a
// SIGKILL between the two leaves the list and the next pass deletes them.
#include <filesystem>
#include <string>
#include <vector>

#include "agent/store/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct PendingDnsRecord {
  std::string zone;
  std::string name;   // "_acme-challenge.www.example.com"
  std::string value;  // the TXT value (base64url)
  friend bool operator==(const PendingDnsRecord&, const PendingDnsRecord&) = default;
};

// Replaces the list; an empty list removes the file.
[[nodiscard]] Result<void> write_pending_dns_records(const Store& store, const std::vector<PendingDnsRecord>& records);
// The list; empty when there is none. A file certagent did not write is an error naming it.
[[nodiscard]] Result<std::vector<PendingDnsRecord>> read_pending_dns_records(const Store& store);

}  // namespace certagent::agent
