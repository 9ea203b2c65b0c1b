#pragma once
// The ACME directory (RFC 8555 §7.1.1) with its meta fields, plus the profiles
// extension and RFC 9773's renewalInfo.
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace certagent::protocol {

struct Directory {
  std::string url;  // where it was read from
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string new_authz;     // optional (pre-authorization); empty when absent
  std::string revoke_cert;
  std::string key_change;
  std::string renewal_info;  // RFC 9773; empty when the CA does not offer ARI
  // meta
  std::string terms_of_service;
  std::string website;
  std::vector<std::string> caa_identities;
  bool external_account_required = false;
  std::vector<std::string> profiles;  // names offered in meta.profiles
};

// Parses the directory document; newNonce, newAccount and newOrder are required.
[[nodiscard]] Result<Directory> parse_directory(std::string_view body, std::string_view url);

}  // namespace certagent::protocol
