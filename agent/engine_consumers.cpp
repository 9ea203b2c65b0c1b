#include "agent/engine_consumers.hpp"

namespace certagent::agent {
namespace {

void note_unsupported(const std::string& purpose, const policy::PurposeOutput& out, std::vector<std::string>& notes) {
  const std::pair<const char*, const std::optional<std::string>*> kinds[] = {
      {"cert", &out.cert}, {"chain", &out.chain}, {"fullchain", &out.fullchain}, {"key", &out.key},
      {"pkcs12", &out.pkcs12}};
  for (const auto& [name, value] : kinds)
    if (value->has_value())
      notes.push_back(purpose + ": the \"" + name + "\" output (" + **value +
                      ") is not written yet; point the consumer at " + "live/" + purpose + "/ instead");
}

}  // namespace

std::map<std::string, PurposeConsumers> consumers_from_policy(const policy::Policy& policy,
                                                              std::vector<std::string>& unsupported) {
  std::map<std::string, PurposeConsumers> out;
  for (const auto& [purpose, spec] : policy.outputs) {
    PurposeConsumers& c = out[purpose];
    for (const auto& h : spec.hooks)
      c.hooks.push_back(Hook{h.argv, std::chrono::duration_cast<std::chrono::milliseconds>(h.timeout)});
    if (spec.combined_pem)
      c.outputs.push_back(OutputSpec{*spec.combined_pem, OutputFormat::CombinedPem, spec.owner.value_or(""),
                                     spec.group.value_or(""), static_cast<mode_t>(spec.key_mode)});
    note_unsupported(purpose, spec, unsupported);
  }
  return out;
}

}  // namespace certagent::agent
