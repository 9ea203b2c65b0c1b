#pragma once
// A TSIG key (RFC 8945) in the form `tsig-keygen` writes and BIND's named.conf includes:
//   key "name" { algorithm hmac-sha256; secret "base64"; };
// The secret never appears in a message or a log line; errors name the file and line.
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent::protocol {

struct TsigKey {
  std::string name;       // the key's name, normalised (lower case, no trailing dot)
  std::string algorithm;  // "hmac-sha256", "hmac-sha384" or "hmac-sha512"
  std::string secret;     // base64, as written; never logged
};

// Parses the text of a key file; `file` is for messages only ("FILE:LINE: what is wrong").
// Comments (#, //, /* */) are allowed; exactly one key statement.
[[nodiscard]] Result<TsigKey> parse_tsig_key(std::string_view text, std::string_view file);

// Reads and parses a key file. Refuses a file that is not a regular file, is readable or
// writable by others or writable by its group (0600 or 0640 are right), or is owned by
// someone other than root or the agent's user.
[[nodiscard]] Result<TsigKey> read_tsig_key_file(const std::string& path);

}  // namespace certagent::protocol
