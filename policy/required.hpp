#pragma once
// The certificates this host must hold, computed from a parsed policy.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/model.hpp"

namespace certagent::policy {

struct RequiredCertificate {
  std::string id;                     // stable: the role's id, or "<role id>-<purpose>" when separate
  std::string role;                   // the role's id
  std::vector<std::string> purposes;  // what it is bound to
  std::vector<RequiredName> names;    // de-duplicated; the pool FQDN first where Default is served
  KeyType key = KeyType::EcP256;
  Layout layout = Layout::Shared;     // resolved: Shared or Separate
  Renewal renewal;
  std::optional<ProfileChoice> profile;  // the ACME profile to order it under; unset: none
};

// The profile of the certificate bound to `purpose` of `role`: the purpose's own (in
// "purposes"), else the role's, else the CA's; unset when none names one.
[[nodiscard]] std::optional<ProfileChoice> purpose_profile(const Policy& policy, const Role& role,
                                                           const std::string& purpose);

// Purpose -> thumbprint of the certificate bound to it now.
using Bindings = std::map<std::string, std::string>;

// `auto` decided from what is bound now (the guide's steps 4-5): several
// distinct thumbprints on the role's purposes -> separate; one thumbprint, or
// nothing bound -> shared (Lync's default configuration). Shared and
// separate are returned as they are.
[[nodiscard]] Layout resolve_layout(const Role& role, const Bindings& bound);

// One certificate per role (shared) or per purpose (separate; a purpose that
// needs no names then gets none — the parser refuses that for an explicit
// "separate", so it only happens with "auto"). Purposes bound
// to different certificates are never put on one certificate unless the
// policy says "shared" — `auto` keeps them apart.
[[nodiscard]] std::vector<RequiredCertificate> required_certificates(const Policy& policy,
                                                                     const Bindings& bound = {});
// The same, one at a time and in the same order, none held after `each` returns (policy::plan
// over a policy: 10,000 required certificates held at once were a tenth of a pass's memory, issue 26).
void for_each_required_certificate(const Policy& policy, const Bindings& bound,
                                   const std::function<void(RequiredCertificate&&)>& each);
// How many required_certificates returns, without making them.
[[nodiscard]] std::size_t count_required_certificates(const Policy& policy, const Bindings& bound = {});

// Whether `c` is ordered once for the whole pool (docs/pool.md): no pool, never; the pool's
// "certificates" list when it has one; else every certificate none of whose names is the
// server's own FQDN (the preset rule "server": a Front End's Default stays per-member).
[[nodiscard]] bool is_pool_wide(const Policy& policy, const RequiredCertificate& c);

}  // namespace certagent::policy
