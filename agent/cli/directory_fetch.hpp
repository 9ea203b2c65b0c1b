#pragma once
// The CA's ACME directory as the commands that look at it without a session read it
// (`acme directory`, `plan`'s dns-persist-01 records): one GET over a verified TLS transport.
#include <string>

#include "common/error.hpp"

namespace certagent::agent {

// The body of the directory at `url` (trusting `trust_file`'s roots, else the system's); an error
// of kind Protocol for any answer but 200, naming the status and the URL.
[[nodiscard]] Result<std::string> fetch_directory_body(const std::string& url, const std::string& trust_file);

}  // namespace certagent::agent
