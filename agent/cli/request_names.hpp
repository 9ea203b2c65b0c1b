#pragma once
// The names `certagent request` asks for (Request-CsCertificate -New): the
// union of the names the policy gives the requested purposes in the first role
// that serves them all; with an explicit --domain-name list the Autodiscover
// names (rules autodiscover-internal / autodiscover-external) are replaced by
// exactly the listed FQDNs, as the guide does for many SIP domains. Each listed FQDN must carry the
// prefix a requested type needs (lyncdiscover. for WebServicesExternal, lyncdiscoverinternal. for
// WebServicesInternal), checked before any key or order. When both types are requested (the
// shared certificate of the guide's step 12), a listed domain gets both prefixes: the guide's own
// example lists only LyncdiscoverInternal names, which would leave a certificate that cannot be
// assigned to WebServicesExternal; the names added are reported in `added`.
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "policy/model.hpp"

namespace certagent::agent {

struct RequestPlan {
  std::string certificate_id;   // the policy's id when the purposes are exactly one required certificate's
  std::vector<std::string> names;
  policy::KeyType key = policy::KeyType::EcP256;
  std::optional<policy::ProfileChoice> profile;  // the first purpose's (policy::purpose_profile)
  // Names added to an explicit --domain-name list because a requested type needs them, and why.
  std::vector<std::string> added;
  std::string added_because;
};

// `domain_names` absent: --all-sip-domains (the policy's own Autodiscover names).
[[nodiscard]] Result<RequestPlan> request_plan(const policy::Policy& policy, const std::vector<std::string>& purposes,
                                               const std::optional<std::vector<std::string>>& domain_names);

}  // namespace certagent::agent
