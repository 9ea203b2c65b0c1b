#pragma once
// The Lync presets, written in the generic policy form (the same "names"
// objects a policy file uses), so `certagent policy show-presets` can print
// them verbatim and a role can override any purpose's names.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "policy/purpose_templates.hpp"

namespace certagent::policy {

struct Preset {
  std::string kind;                       // "front-end-standard", ...
  std::vector<PurposeTemplates> purposes; // in order; Default first where served
};

struct Presets {
  std::map<std::string, Preset, std::less<>> roles;
  std::map<std::string, std::string, std::less<>> rules;  // rule id -> the guide's sentence
};

// The presets as JSON text (with comments), exactly what show-presets prints.
[[nodiscard]] std::string_view presets_text();

// Parsed once; an error here is a bug in presets_text() (a test guards it).
[[nodiscard]] Result<const Presets*> presets();

}  // namespace certagent::policy
