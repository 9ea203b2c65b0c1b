#include "agent/engine/consumers.hpp"

namespace certagent::agent {
namespace {

std::vector<OutputSpec> outputs_of(const std::string& purpose, const policy::PurposeOutput& out) {
  const std::pair<OutputFormat, const std::optional<std::string>*> files[] = {
      {OutputFormat::Key, &out.key},         {OutputFormat::CombinedPem, &out.combined_pem},
      {OutputFormat::Pkcs12, &out.pkcs12},   {OutputFormat::Chain, &out.chain},
      {OutputFormat::Fullchain, &out.fullchain}, {OutputFormat::Cert, &out.cert}};
  std::vector<OutputSpec> specs;
  for (const auto& [format, path] : files) {
    if (!path->has_value()) continue;
    const bool secret = format == OutputFormat::Key || format == OutputFormat::CombinedPem ||
                        format == OutputFormat::Pkcs12;
    OutputSpec spec{**path, format, out.owner.value_or(""), out.group.value_or(""),
                    static_cast<mode_t>(secret ? out.key_mode : out.cert_mode), std::nullopt, ""};
    if (format == OutputFormat::Pkcs12) {
      if (out.pkcs12_password_file) spec.password_file = *out.pkcs12_password_file;
      spec.friendly_name = purpose;
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace

std::map<std::string, PurposeConsumers> consumers_from_policy(const policy::Policy& policy) {
  std::map<std::string, PurposeConsumers> out;
  for (const auto& [purpose, spec] : policy.outputs) {
    PurposeConsumers& c = out[purpose];
    for (const auto& h : spec.hooks)
      c.hooks.push_back(Hook{h.argv, std::chrono::duration_cast<std::chrono::milliseconds>(h.timeout)});
    c.outputs = outputs_of(purpose, spec);
    for (const auto& u : spec.reload_units) c.units.push_back(UnitAction{u, UnitVerb::Reload});
    for (const auto& u : spec.restart_units) c.units.push_back(UnitAction{u, UnitVerb::Restart});
  }
  return out;
}

}  // namespace certagent::agent
