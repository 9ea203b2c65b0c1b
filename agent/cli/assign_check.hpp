#pragma once
// The checks `assign` (Set-CsCertificate made safe) runs before binding a
// stored certificate to purposes: every purpose is one the policy knows, the
// certificate carries every name each of them requires, and it has not expired.
#include <chrono>
#include <string>
#include <vector>

#include "agent/cli/purpose_names.hpp"
#include "agent/store/store.hpp"

namespace certagent::agent {

// One line per refusal: "WebServicesExternal lacks lyncdiscover.contoso.com, lyncdiscover.fabrikam.com".
// Empty: the binding is safe.
[[nodiscard]] std::vector<std::string> assign_refusals(const StoredVersion& version,
                                                       const std::vector<std::string>& purposes,
                                                       const PurposeNamesMap& required,
                                                       std::chrono::sys_seconds now);

}  // namespace certagent::agent
