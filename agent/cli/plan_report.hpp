#pragma once
// How `certagent plan` shows a plan: a table for people, JSON for programs.
#include <boost/json/value.hpp>

#include <string>
#include <vector>

#include "policy/plan.hpp"

namespace certagent::agent {

// One row per certificate, its reason below it; with verbosity >= 1 every
// name with the challenge that will validate it (given `challenges`, the policy's) and the
// rule(s) behind it, and the rules' sentences from the guide.
[[nodiscard]] std::string plan_table(const std::vector<policy::Action>& actions, int verbosity,
                                     const std::vector<policy::Challenge>& challenges = {});

// {"certificates":[{"id","role","purposes","names","action","reason","missing","extra",
//                   "key","layout","rules":{name:[rule...]}, "challenges":{name:"dns-01"}?,
//                   "thumbprint"?, "rebind"?, "renewal_due"?}]}
[[nodiscard]] boost::json::value plan_json(const std::vector<policy::Action>& actions,
                                           const std::vector<policy::Challenge>& challenges = {});

}  // namespace certagent::agent
