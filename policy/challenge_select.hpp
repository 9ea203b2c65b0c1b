#pragma once
// A challenge per name (docs/policy.md, "A challenge per name"): which of the policy's
// challenge entries answers for a name.
#include <cstddef>
#include <string_view>
#include <vector>

#include "policy/model.hpp"

namespace certagent::policy {

// The entry that answers for `name` ("*.example.com" for a wildcard), or null when none does.
// Only entries that can validate the name are considered (a wildcard: dns-01, dns-persist-01);
// among them an entry that lists the name in `names` wins, then the one with the longest zone
// that contains it, then the default (no `names`, no `zones`); the first in the file on a tie.
[[nodiscard]] const Challenge* challenge_for(const std::vector<Challenge>& challenges, std::string_view name);

// The index of the entry that answers for `name` (challenge_for); a name no entry selects (one
// `certagent request --domain-name` adds) takes the first entry that can validate it, else 0.
// `challenges` must not be empty.
[[nodiscard]] std::size_t challenge_index(const std::vector<Challenge>& challenges, std::string_view name);

// Whether `name` is `zone` or lies under it ("a.b.example.com" under "example.com"); a wildcard
// "*.example.com" lies under "example.com".
[[nodiscard]] bool in_zone(std::string_view name, std::string_view zone);

}  // namespace certagent::policy
