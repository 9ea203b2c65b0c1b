#pragma once
// How `certagent plan` shows a plan: a table for people, JSON for programs.
#include <boost/json/value.hpp>

#include <string>
#include <vector>

#include "policy/plan.hpp"

namespace certagent::agent {

// One row per certificate, its reason below it; with verbosity >= 1 every
// name with the rule(s) behind it, and the rules' sentences from the guide.
[[nodiscard]] std::string plan_table(const std::vector<policy::Action>& actions, int verbosity);

// {"certificates":[{"id","role","purposes","names","action","reason","missing","extra",
//                   "key","layout","rules":{name:[rule...]}, "thumbprint"?, "rebind"?, "renewal_due"?}]}
[[nodiscard]] boost::json::value plan_json(const std::vector<policy::Action>& actions);

}  // namespace certagent::agent
